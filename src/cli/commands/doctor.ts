import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { printJson } from '../output.js';

export interface DoctorReport {
  node: string;
  libtorch: { ok: boolean; version?: string; libraries?: string[]; error?: string; cuda?: boolean };
  blas: { kind: string; library: string | null; config: string | null; warning?: string };
  threads: { intraOp: number; blas: number | null } | null;
  pythonPeer: { python: string; torch: string | null; sklearn: string | null };
}

function pythonPeer(): DoctorReport['pythonPeer'] {
  const python = '/usr/bin/python3';
  const probe = (mod: string) => {
    const r = spawnSync(python, ['-c', `import ${mod}; print(${mod}.__version__)`], { encoding: 'utf8', timeout: 60000 });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  return { python, torch: probe('torch'), sklearn: probe('sklearn') };
}

export async function doctor(): Promise<DoctorReport> {
  const report: DoctorReport = {
    node: process.version,
    libtorch: { ok: false },
    blas: { kind: 'unknown', library: null, config: null },
    threads: null,
    pythonPeer: pythonPeer(),
  };
  try {
    const rt = await import('../../torch/runtime.js');
    const info = rt.runtimeInfo();
    report.libtorch = { ok: true, version: info.torchVersion, libraries: info.libraries, cuda: info.cuda };
    report.blas = { ...info.blas };
    if (info.blas.kind === 'reference') {
      report.blas.warning = 'libtorch is running on the reference BLAS (~15x slower). Install OpenBLAS: apt-get install libopenblas0-pthread';
    }
    report.threads = info.threads;
  } catch (e) {
    report.libtorch = { ok: false, error: (e as Error).message };
  }
  return report;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the libtorch install, BLAS, threads, CUDA and the Python peer used by benchmarks')
    .option('--json', 'print one JSON object')
    .action(async (o: { json?: boolean }) => {
      const r = await doctor();
      if (o.json) return printJson(r);
      const line = (k: string, v: string) => process.stdout.write(`${k.padEnd(12)} ${v}\n`);
      line('node', r.node);
      if (r.libtorch.ok) {
        line('libtorch', `${r.libtorch.version} (${r.libtorch.libraries?.find((l) => l.includes('libtorch_cpu')) ?? 'path unknown'})`);
        line('cuda', r.libtorch.cuda ? 'available' : 'not available (CPU only)');
      } else line('libtorch', `NOT LOADED: ${r.libtorch.error}`);
      line('blas', `${r.blas.kind}${r.blas.library ? ` (${r.blas.library})` : ''}`);
      if (r.blas.warning) process.stdout.write(`WARNING: ${r.blas.warning}\n`);
      if (r.threads) line('threads', `libtorch intra-op ${r.threads.intraOp}, BLAS ${r.threads.blas ?? 'n/a'} (REVERTLM_THREADS, REVERTLM_BLAS_THREADS)`);
      line('python peer', `${r.pythonPeer.python}: torch ${r.pythonPeer.torch ?? 'missing (apt-get install python3-torch)'}, sklearn ${r.pythonPeer.sklearn ?? 'missing (apt-get install python3-sklearn)'}`);
      if (!r.libtorch.ok) process.exitCode = 1;
    });
}
