// Package remote holds the benchmarks of the remote store path: the
// overhead of store/remote (HTTP on loopback, protobuf and JSON) over
// calling a memstore in process, for get, create, watch delivery latency
// and watch throughput. Run them with bench/remote/run.sh (make
// bench-remote), which prints each figure and the remote/in-process
// ratios as `figure:` lines.
package remote
