/** @module rory/algorithms/skmeans-pqc/leakage — what an SKMeans-PQC job uploads (docs/protocol-additions.md §2; D3, D4). */
import { CKKS_PUBLIC_KEYS, ENCRYPTED_P_CKKS, item } from '../../leakage';
import { SKMEANS_SHIFT, SKMEANS_UDM } from '../skmeans/leakage';

export const INITSM = item('{P}initsm', 'ckks', false, 'A CKKS-encrypted zero matrix the worker starts from.');

export const SKMEANS_PQC_LEAKAGE = [ENCRYPTED_P_CKKS, INITSM, SKMEANS_UDM, SKMEANS_SHIFT, CKKS_PUBLIC_KEYS];
