// Package network defines the pod network interface the node agent calls.
package network
