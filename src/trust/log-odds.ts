/**
 * Probabilities and log-odds. Evidence is combined in log-odds space, where
 * independent likelihood ratios add (Bayes' rule in odds form:
 * posterior odds = prior odds x LR), and reported back as a probability.
 */

/** ln(p / (1 - p)); -Infinity at 0, +Infinity at 1. */
export function logit(p: number): number {
  return Math.log(p) - Math.log1p(-p);
}

/** 1 / (1 + e^-x), the inverse of {@link logit}; exact 0 and 1 at the infinities. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
