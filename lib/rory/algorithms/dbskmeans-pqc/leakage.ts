/** @module rory/algorithms/dbskmeans-pqc/leakage — what a DBSKMeans-PQC job uploads (docs/protocol-additions.md §2). */
import { CKKS_PUBLIC_KEYS, ENCRYPTED_P_CKKS } from '../../leakage';
import { FDHOPE_SHIFT, FDHOPE_UDM } from '../dbskmeans/leakage';
import { INITSM } from '../skmeans-pqc/leakage';

export const DBSKMEANS_PQC_LEAKAGE = [ENCRYPTED_P_CKKS, INITSM, FDHOPE_UDM, FDHOPE_SHIFT, CKKS_PUBLIC_KEYS];
