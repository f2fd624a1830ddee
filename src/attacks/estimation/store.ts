// A device estimate kept across captures. A server that estimated a device's part from one capture
// can keep the estimate and start from it on the same device's later traffic: the first inversion
// then finds the traffic nearly clean and estimation is skipped (estimateDevice's clean check), so
// only the inversion is paid again. The file holds the estimate's merged weights (the pretrained
// part with the adapters folded in) and says which model and split it belongs to.
import { loadSafetensors, saveSafetensors, SafetensorsFile } from '../../torch/index.js';
import { DeviceModel, namedLoRAParameters, type DevicePart } from '../../models/index.js';
import { RevertlmError } from '../../util/errors.js';
import { emptyDevice } from './device_estimate.js';

export const ESTIMATE_FORMAT = 'revertlm-device-estimate';

export class EstimateFileError extends RevertlmError {}

/** The architecture facts an estimate must share with the part it replaces. */
function fingerprint(d: DeviceModel): Record<string, string> {
  const c = d.config;
  return { split: String(d.splitPoint), d_model: String(c.dModel), vocab: String(c.vocabSize), family: c.family };
}

/** Writes the device part an attack re-encoded with (its estimate) atomically, with what it fits. */
export function saveDeviceEstimate(path: string, device: DevicePart, note: Record<string, string> = {}): void {
  if (!(device instanceof DeviceModel)) throw new EstimateFileError('only a device part as loaded (a DeviceModel) can be saved as an estimate');
  if (namedLoRAParameters(device).length) throw new EstimateFileError('the estimate still has unmerged adapters', 'save it once its fitting is over (DeviceEstimate.freeze)');
  saveSafetensors(path, device.stateDict(), { ...note, format: ESTIMATE_FORMAT, ...fingerprint(device) });
}

/**
 * A copy of `base` with the weights of an estimate saved by saveDeviceEstimate (the caller disposes
 * it). Refuses a file of another format, split or architecture, naming what differs.
 */
export function loadDeviceEstimate(path: string, base: DevicePart): DeviceModel {
  if (!(base instanceof DeviceModel)) throw new EstimateFileError('a stored estimate replaces a device part as loaded (a DeviceModel)');
  let meta: Record<string, string>;
  try {
    const f = SafetensorsFile.open(path);
    meta = f.metadata;
    f.close();
  } catch (e) {
    throw new EstimateFileError(`${path}: cannot read a device estimate (${(e as Error).message})`, 'give a file written by `revertlm attack --save-estimate`');
  }
  if (meta.format !== ESTIMATE_FORMAT) throw new EstimateFileError(`${path} is not a device estimate (format ${meta.format ?? 'missing'})`, 'give a file written by `revertlm attack --save-estimate`');
  const want = fingerprint(base);
  for (const [k, v] of Object.entries(want)) {
    if (meta[k] !== v) throw new EstimateFileError(`${path} is an estimate for ${k} ${meta[k]}, not ${v}`, 'use the estimate saved for this model and split');
  }
  const copy = emptyDevice(base);
  const tensors = loadSafetensors(path);
  try {
    copy.loadStateDict(tensors);
  } catch (e) {
    copy.dispose();
    throw new EstimateFileError(`${path}: ${(e as Error).message}`, 'use the estimate saved for this model and split');
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  for (const p of copy.parameters()) p.requiresGrad_(false);
  copy.eval();
  return copy;
}
