/** @module rory/algorithms/dbsnnc/paths — the DBSNNC(-PQC) worker routes and the storage keys a job writes (spec/protocol.md §5.4). */
import { keys } from '../../protocol';

export const DBSNNC_PATH = '/clustering/dbsnnc';
export const DBSNNC_PQC_PATH = '/clustering/pqc/dbsnnc';

export function dbsnncObjectKeys(p: string): string[] {
  return [keys.encryptedMatrix(p), keys.encryptedDm(p)];
}
