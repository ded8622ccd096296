/** Display helpers for key records (pure; no key material is ever formatted here). */
import type { KeyRecord, UsageRef } from '@/lib/keystore/types';

export const SCHEME_LABEL: Record<KeyRecord['scheme'], string> = { liu: 'Liu', fdhope: 'FDHOPE', ckks: 'CKKS' };

export function describeParams(r: KeyRecord): string {
  switch (r.scheme) {
    case 'liu':
      return `level ${r.params.level} · m = ${r.params.m} · ${r.params.nbits}-bit components`;
    case 'fdhope':
      return `${r.params.intervals} ranges${r.params.datasetId ? ` · dataset ${r.params.datasetId}` : ''}`;
    case 'ckks': {
      const p = r.params;
      const extras = [p.hasRelinKeys ? 'relinearization keys' : null, p.hasGaloisKeys ? 'rotation keys' : null].filter(Boolean).join(', ');
      return `${p.parameterSet} · N = ${p.polyModulusDegree} · q = [${p.coeffModulusBits.join(', ')}] · scale 2^${p.scaleBits}${extras ? ` · ${extras}` : ''}`;
    }
  }
}

export function describeUsageRef(u: UsageRef): string {
  return `${u.kind} ${u.label ?? u.id}`;
}

export function formatDate(ms: number): string {
  return new Date(ms).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

export const ORIGIN_LABEL: Record<KeyRecord['origin'], string> = { generated: 'generated here', backup: 'from backup', pyfhel: 'imported from Pyfhel files' };
