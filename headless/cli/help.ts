/**
 * @module headless/cli/help
 * What `rory --help` and `rory <command> --help` print: every option with its default and an
 * example (docs/headless.md has the long form). Kept as plain text so tests can check that every
 * option the parser accepts is documented.
 */

export const MAIN_HELP = `rory — the Rory Data Owner without a browser

Usage: rory <command> [options]        (from the project directory: npx rory <command>)

Commands:
  serve                      Run the Data Owner service: the upstream client routes
                             (/clustering/*, /classification/*) on NODE_PORT, for the Python SDK
                             and experiment scripts
  cloud                      Run a local Rory cloud (MictlanX router, manager, workers) to try
                             things out
  keys generate|list|export|import
                             Manage the keys in KEYS_PATH (a passphrase-protected file that the
                             browser's Keys page can import too)
  run                        Run one job on a CSV/NPY file against the configured cloud
  experiment PLAN.json       Run algorithms × datasets × parameters × repetitions; write one
                             trace CSV (a row per event) and a summary (median and spread)

Configuration comes from the environment, with upstream's variable names and defaults
(NODE_PORT 3000, NUM_CHUNKS 4, MAX_ITERATIONS 10, WORKER_TIMEOUT 300, MICTLANX_BUCKET_ID rory,
LIU_SECURITY_LEVEL 128, SOURCE_PATH /rory/source, SINK_PATH /rory/sink, LOG_PATH /rory/log,
KEYS_PATH /rory/keys, …). With RORY_DEBUG=1 the file ENV_FILE_PATH (default .env.dev) is read
first, as upstream does; --env-file FILE reads one explicitly.

Global options:
  --env-file FILE            Read KEY=VALUE settings from FILE (a .client.env); the environment wins
  -h, --help                 Show help (also: rory <command> --help)

Examples:
  npx rory cloud                                   # a local cloud on 127.0.0.1
  npx rory run --data iris.csv --k 3               # private k-means (PKMEANS), exact, nothing to acknowledge
  RORY_KEYS_PASSPHRASE_FILE=~/.rory-pass npx rory serve --port 3000
  npx rory experiment plan.json --out results/
`;

export const SERVE_HELP = `rory serve — the Data Owner service (upstream client routes, spec/protocol.md §6)

Usage: rory serve [--port N] [--host ADDR] [--allow-host NAME]… [--quiet]

Routes (POST, parameters in headers, exactly as the Python SDK sends them):
  /clustering/{kmeans,skmeans,dbskmeans,dbsnnc,nnc}
  /clustering/pqc/{skmeans,dbskmeans,pkmeans,dbsnnc}     (pkmeans: private k-means, recommended)
  /classification/{knn,sknn,pqc/sknn}/{train,predict}
  /clustering/test, /classification/test (GET or POST)   → {"component_type":"client"}

Options:
  --port N            Port to listen on (default: NODE_PORT, 3000; 0 = any free port)
  --host ADDR         Address to listen on (default: SERVER_IP_ADDR, 127.0.0.1). The service has
                      no authentication (like upstream): expose it only on a trusted network
  --allow-host NAME   Another Host name clients use to reach it (repeatable; loopback, NODE_ID and
                      NODE_IP_ADDR always work)
  --quiet             No access log

Datasets are read from SOURCE_PATH/{Plaintext-Matrix-Filename}.{Extension} (csv or npy),
per-job event logs go to LOG_PATH, results to SINK_PATH. Decryptions are approved by policy,
but every guard and verification still runs.

Plaintext routes (KMEANS, NNC, KNN, SKMEANS, SKMEANS_PQC, SKNN, SKNN_PQC) upload data without
encryption; they answer 403 with the list of what would leave unless the operator acknowledges
them:  RORY_ACKNOWLEDGE=SKMEANS,KNN

Keys: KEYS_PATH/rory-keys.json, encrypted with RORY_KEYS_PASSPHRASE (or the file named by
RORY_KEYS_PASSPHRASE_FILE). A fresh Liu key is made per job; CKKS key sets are kept there.

Example:
  SOURCE_PATH=./data RORY_KEYS_PASSPHRASE_FILE=./pass npx rory serve --port 3000
  curl -X POST -H 'Plaintext-Matrix-Filename: iris' -H 'K: 3' localhost:3000/clustering/pqc/pkmeans
`;

export const CLOUD_HELP = `rory cloud — a local Rory cloud: MictlanX-compatible router, manager and workers

Usage: rory cloud [--host ADDR] [--router-port N] [--manager-port N] [--worker-ports N,N]
                  [--data-dir DIR] [--allow-origin ORIGIN]… [--json]

Options:
  --host ADDR          Address to bind (default 127.0.0.1)
  --router-port N      MictlanX router port (default 63666; 0 = any free port)
  --manager-port N     Manager port (default 6001; upstream's 6000 is a port browsers refuse)
  --worker-ports LIST  One port per worker (default 9000,9001; 0 = any free port)
  --data-dir DIR       Where the router keeps chunks (default .data/cloud)
  --allow-origin URL   A browser origin allowed to use the cloud (repeatable)
  --json               Print the addresses as one JSON line (for scripts)

It prints the settings that point the Data Owner at it (MICTLANX_ROUTERS, RORY_MANAGER_PORT).
Ctrl-C stops it.

Example:
  npx rory cloud --router-port 0 --manager-port 0 --worker-ports 0,0 --json
`;

export const KEYS_HELP = `rory keys — the keys in KEYS_PATH

Usage:
  rory keys list [--json]
  rory keys generate --scheme liu|ckks [--level 128|192|256] [--galois-steps 1,2,4] [--label TEXT]
  rory keys export --out FILE [--ids ID,ID] [--new-passphrase-file FILE]
  rory keys export --pyfhel DIR --id CKKS_ID
  rory keys import FILE [--backup-passphrase-file FILE]
  rory keys import --pyfhel DIR [--label TEXT]

The key store is KEYS_PATH/rory-keys.json, encrypted with the passphrase in RORY_KEYS_PASSPHRASE
or in the file RORY_KEYS_PASSPHRASE_FILE (at least 10 characters). Its format is the browser's
key backup: the file imports on the app's Keys page, and a backup exported there is imported
here with \`rory keys import\`.

Options:
  --scheme liu|ckks            generate: Liu (legacy, leaks order and ratios) or a CKKS key set
  --level 128|192|256          generate liu: security level (default LIU_SECURITY_LEVEL, 128)
  --galois-steps LIST          generate ckks: rotation steps for Galois keys (default none;
                               relinearization keys are always made; CKKS default-128, N=8192)
  --label TEXT                 A name shown by \`rory keys list\` and in the browser
  --out FILE                   export: write a passphrase-protected backup (browser format)
  --ids LIST                   export: only these key ids (default all)
  --new-passphrase-file FILE   export: protect the backup with this passphrase instead of the
                               key store's
  --pyfhel DIR                 export: write the PUBLIC files of a CKKS key set in Pyfhel's layout
                               (ctx, PUBKEY_FILENAME, relinkey, rotatekey) for upstream workers —
                               never the secret key (D4); import: read ctx, PUBKEY_FILENAME,
                               SECRET_KEY_FILENAME, relinkey, rotatekey from DIR
  --id CKKS_ID                 export --pyfhel: which key set
  --backup-passphrase-file F   import: the backup's passphrase (default: the key store's)
  --json                       list: machine-readable output

Examples:
  RORY_KEYS_PASSPHRASE_FILE=./pass npx rory keys generate --scheme ckks --galois-steps 1,2,4
  RORY_KEYS_PASSPHRASE_FILE=./pass npx rory keys import rory-keys-backup-2026-01-01.json
  RORY_KEYS_PASSPHRASE_FILE=./pass npx rory keys export --pyfhel /rory/keys --id ck...
`;

export const RUN_HELP = `rory run — one job on a local file against the configured cloud

Usage: rory run --data FILE [--algorithm ALG] [--k N] [options]

Options:
  --algorithm ALG        PKMEANS (default: private k-means, exact, nothing to acknowledge),
                         DBSKMEANS, SKMEANS, SKMEANS_PQC, DBSKMEANS_PQC, DBSNNC, DBSNNC_PQC, NNC,
                         KMEANS, SKNN (SKNN_PREDICT), SKNN_PQC, KNN
  --data FILE            The dataset (CSV or NPY); for classification, the training set
  --labels FILE          One integer label per record: true classes (clustering: adds ARI and
                         other external metrics) or the training labels (classification)
  --test FILE            Classification: the records to classify
  --test-labels FILE     Classification: their true classes (adds accuracy)
  --k N                  Clusters (default 3)
  --max-iterations N     Round cap (default MAX_ITERATIONS, 10)
  --threshold X          NNC family: distance threshold (default -1 = automatic)
  --sens X               FDHOPE noise (default 1e-8)
  --tolerance X          Verification tolerance of the k-means family
  --acknowledge          Accept that this algorithm uploads plaintext-derived data (D3); without
                         it such a run stops before anything is sent and lists what would leave
  --liu-key ID           Use this Liu key from KEYS_PATH (default: a new key for the job)
  --ckks-key ID          Use this CKKS key set (default: the newest that fits, else a new one)
  --out PREFIX           Write PREFIX.json (result) and PREFIX.labels.csv (one label per line)
                         (default SINK_PATH/<file>.<job id>)
  --local-cloud          Start a local cloud for this run (else MICTLANX_ROUTERS and
                         RORY_MANAGER_IP_ADDR:RORY_MANAGER_PORT are used)
  --quiet                Only the result path

On a terminal a progress bar is drawn; otherwise one plain line per event.
Exit codes: 0 done, 1 failed (the message says why), 2 a mistake on the command line,
3 not acknowledged (nothing was sent), 4 the result failed its verification.

Examples:
  npx rory run --local-cloud --data iris.csv --labels iris.labels.csv --k 3
  npx rory run --algorithm SKNN --data train.csv --labels train.labels.csv --test test.csv --acknowledge
`;

export const EXPERIMENT_HELP = `rory experiment — repeated runs for figures: algorithms × datasets × parameters × repetitions

Usage: rory experiment PLAN.json [--out DIR] [--local-cloud] [--quiet]

Writes DIR/trace.csv (one row per event per run: experiment_id, repetition, algorithm, dataset,
n, a, k, params, event, round, duration, bytes) and DIR/summary.csv (per algorithm, dataset and
parameters: runs, failures, median and spread of the job time, iterations, crypto / transfer /
worker time, MB up and down, client CPU), and prints the summary.

PLAN.json (paths are relative to the plan file):
  {
    "id": "fig3",                              (default: exp-<date>)
    "algorithms": ["PKMEANS", "DBSKMEANS"],
    "datasets": ["iris.csv",
                 {"name": "blobs", "data": "blobs.csv", "labels": "blobs.labels.csv", "params": {"k": 2}},
                 {"name": "cls", "data": "train.csv", "labels": "train.labels.csv", "test": "test.csv"}],
    "params": {"k": [3], "maxIterations": 10},  (each a value or a list: the grid)
    "repetitions": 3,                          (default 1)
    "acknowledge": ["SKMEANS"],                (plaintext-uploading algorithms you accept)
    "cloud": "env",                            ("env": the configured cloud; "local": start one)
    "out": "results/fig3"                      (default SINK_PATH/<id>)
  }
Classification algorithms run on datasets with "test" and "labels"; clustering ones on the
others (pairs that cannot run are listed as skipped).

A plan with a plaintext-uploading algorithm that neither "acknowledge" nor RORY_ACKNOWLEDGE
accepts is refused before anything runs (exit code 3).

Options:
  --out DIR         Overrides the plan's "out"
  --local-cloud     Overrides the plan's "cloud" with "local"
  --quiet           Only the summary

Exit codes: 0 every run done, 1 a run failed (it is in the trace) or the plan has a mistake (the
message names the field), 2 a mistake on the command line, 3 not acknowledged (nothing was run).

Example:
  npx rory experiment bench/plans/jobs.json --local-cloud
`;

export const HELP: Readonly<Record<string, string>> = Object.freeze({
  serve: SERVE_HELP,
  cloud: CLOUD_HELP,
  keys: KEYS_HELP,
  run: RUN_HELP,
  experiment: EXPERIMENT_HELP,
});
