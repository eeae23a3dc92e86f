import { describe, expect, it } from 'vitest';
import { normalCdf, studentTCdf, studentTQuantile } from '../../src/acceptance/student-t.ts';

describe("Student's t", () => {
  it('matches printed tables', () => {
    // Two-sided 95% critical values and one-sided 99.9% ones.
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706, 2);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.303, 3);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228, 3);
    expect(studentTQuantile(0.95, 4)).toBeCloseTo(2.132, 3);
    expect(studentTQuantile(0.999, 20)).toBeCloseTo(3.552, 3);
    expect(studentTQuantile(0.975, Infinity)).toBeCloseTo(1.96, 3);
  });

  it('cdf and quantile are inverse, symmetric, and tend to the normal', () => {
    for (const df of [1, 2.5, 7, 30]) {
      for (const p of [0.01, 0.3, 0.5, 0.9, 0.999]) expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 7);
      expect(studentTCdf(-1.3, df)).toBeCloseTo(1 - studentTCdf(1.3, df), 12);
    }
    expect(studentTCdf(1.5, 1e6)).toBeCloseTo(normalCdf(1.5), 5);
    expect(normalCdf(1.6449)).toBeCloseTo(0.95, 4);
  });

  it('handles the edges', () => {
    expect(studentTCdf(Infinity, 3)).toBe(1);
    expect(studentTCdf(-Infinity, 3)).toBe(0);
    expect(studentTCdf(0, 3)).toBeCloseTo(0.5, 12);
    expect(studentTQuantile(0, 3)).toBeNaN();
    expect(studentTCdf(1, 0)).toBeNaN();
  });
});
