/** @module rory/algorithms/kmeans/leakage — what a plaintext KMeans job uploads (spec/protocol.md §5.1; D3). */
import { item } from '../../leakage';

export const KMEANS_LEAKAGE = [item('{P}', 'plaintext', false, 'Your whole dataset, unencrypted.')];
