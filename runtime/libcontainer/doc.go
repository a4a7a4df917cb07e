// Package libcontainer implements runtime.Runtime with real containers on
// runc's libcontainer.
package libcontainer
