/** @module rory/algorithms/dbsnnc/leakage — what a DBSNNC job uploads (spec/protocol.md §5.4, §7.5). */
import { ENCRYPTED_P_LIU, FDHOPE_NOTE, item } from '../../leakage';

export const FDHOPE_DM = item('{P}encrypteddm', 'fdhope', false, `The distance between every pair of records. ${FDHOPE_NOTE}.`);
export const FDHOPE_THRESHOLD = item('header:Encrypted-Threshold', 'fdhope', false, `The clustering threshold. ${FDHOPE_NOTE}.`);

export const DBSNNC_LEAKAGE = [ENCRYPTED_P_LIU, FDHOPE_DM, FDHOPE_THRESHOLD];
