// Package atomicwriter projects a set of files into a directory so that a
// reader always sees either the whole old set or the whole new one.
//
// Layout of a projected directory:
//
//	dir/..2026_11_23_17_15_06.123456789/   the current set of files
//	dir/..data -> ..2026_11_23_17_15_06.123456789
//	dir/key    -> ..data/key               one symlink per top-level entry
//
// Write puts the new set in a fresh timestamped directory, points a
// temporary symlink at it and renames that over ..data (rename(2) is atomic),
// then adds and removes the top-level symlinks. The set just replaced is
// kept until the next update, so a reader that resolved ..data just before a
// swap can still open its files; older sets are deleted. Readers that
// resolve dir/key see one version of every file: a file opened before the
// swap keeps its content, one opened after sees the new content. A reader
// stalled across two updates may find a file of the set it resolved gone
// (ENOENT) and must re-open; it never sees a mix of two sets.
//
// This is the mechanism configMap, secret and downwardAPI volumes use to
// update files under a running container without a restart.
package atomicwriter
