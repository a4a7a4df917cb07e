// Package projection turns the data of a ConfigMap or Secret (or any map of
// keys to bytes) into the files of a projected volume: all keys, or only the
// listed items at their paths, with per-item or default file modes.
package projection
