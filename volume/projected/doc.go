// Package projected is the projected volume plugin: configMap, secret and
// downwardAPI sources merged into one directory. Because it may hold secret
// data, the directory is a tmpfs (like the secret plugin's), and the merged
// set is written with the atomic writer, so Update swaps it as a whole.
//
// A file's mode is its item's mode, else the source's defaultMode, else the
// projected volume's defaultMode, else 0644. Two sources projecting the
// same path is an error.
package projected
