/** @module rory/algorithms/dbskmeans/leakage — what a DBSKMeans job uploads (spec/protocol.md §7.5). */
import { ENCRYPTED_P_LIU, FDHOPE_NOTE, item } from '../../leakage';

export const FDHOPE_UDM = item('{P}encryptedudm', 'fdhope', false, `The pairwise-difference matrix of your records. ${FDHOPE_NOTE}.`);
export const FDHOPE_SHIFT = item('{P}shiftmatrixope', 'fdhope', true, `Each round, how far every cluster centre moved. ${FDHOPE_NOTE}.`);

export const DBSKMEANS_LEAKAGE = [ENCRYPTED_P_LIU, FDHOPE_UDM, FDHOPE_SHIFT];
