/** @module rory/algorithms/dbsnnc-pqc/leakage — what a DBSNNC-PQC job uploads (docs/protocol-additions.md §3). */
import { ENCRYPTED_P_CKKS } from '../../leakage';
import { FDHOPE_DM, FDHOPE_THRESHOLD } from '../dbsnnc/leakage';

export const DBSNNC_PQC_LEAKAGE = [ENCRYPTED_P_CKKS, FDHOPE_DM, FDHOPE_THRESHOLD];
