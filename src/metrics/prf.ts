export interface PRF {
  precision: number;
  recall: number;
  f1: number;
}

/** Harmonic mean of precision and recall, 0 when both are 0 (rouge-score's fmeasure). */
export function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}
