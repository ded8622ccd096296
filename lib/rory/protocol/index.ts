/**
 * @module rory/protocol
 * The one wire contract of the Rory protocol, shared by the Data Owner (lib/rory) and the local
 * cloud (server/worker): header names and formats, storage keys, reply schemas, algorithm names.
 */
export * from './algorithms';
export * from './headers';
export * from './keys';
export * from './replies';
