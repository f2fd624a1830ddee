import { windowRougeScores } from './rouge.js';

/**
 * The chance floor of ROUGE-L on a sample of windows: each window scored against another window of
 * the same sample (the next one, cyclically), scored and averaged as scoreAll does. It is what an attack
 * that recovers nothing of a window but writes plausible text of the same kind scores (common words
 * and punctuation match): a score near it means nothing was recovered. Null with fewer than two windows.
 */
export function chanceRougeL(refs: readonly string[]): number | null {
  if (refs.length < 2) return null;
  let sum = 0;
  for (let i = 0; i < refs.length; i++) sum += windowRougeScores(refs[i]!, refs[(i + 1) % refs.length]!).rougeL;
  return sum / refs.length;
}
