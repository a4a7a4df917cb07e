// Package hostpath is the hostPath volume plugin: a file or directory of the
// node mounted into the pod. The volume's type is checked before use:
//
//	""                 no check
//	Directory          must be a directory
//	DirectoryOrCreate  created (0755) if missing, else must be a directory
//	File               must be a regular file
//	FileOrCreate       created empty (0644, parent must exist) if missing
//	Socket             must be a unix socket
//	CharDevice         must be a character device
//	BlockDevice        must be a block device
//
// SetUp returns the host path itself (the agent bind-mounts it into the
// containers); the volume directory is not used, and tear-down never touches
// the host path.
package hostpath
