import { describe, expect, it } from 'vitest';
import { PHASES, PHASE_LABELS, phaseName } from '@/lib/jobs/status';

describe('job phases as the progress card shows them', () => {
  it('names every phase in words, never by its id', () => {
    for (const [i, phase] of PHASES.entries()) {
      const label = phaseName(i);
      expect(label).toBe(PHASE_LABELS[phase]);
      expect(label).toMatch(/^[A-Z]/);
      expect(label).not.toBe(phase);
      expect(label).not.toMatch(/[a-z][A-Z]/); // no camelCase ids such as fdhopeKeygen
    }
    expect(new Set(Object.values(PHASE_LABELS)).size).toBe(PHASES.length);
  });

  it('shows nothing for a missing or unknown index (a record from a newer version)', () => {
    expect(phaseName(undefined)).toBe('');
    expect(phaseName(PHASES.length)).toBe('');
    expect(phaseName(PHASES.indexOf('fdhopeKeygen'))).toBe('Making the FDHOPE key for this job');
  });
});
