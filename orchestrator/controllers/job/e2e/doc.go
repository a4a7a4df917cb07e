// Package e2e holds the end-to-end tests of the batch and autoscaling
// controllers on real containers: a control plane in memory (testenv) whose
// one node runs the real node agent on the libcontainer runtime. The tests
// need root and /bin/busybox (busybox-static), and skip with a message
// otherwise. The test binary re-executes itself as each container's init.
package e2e
