// Package cni sets up pod networking through libcni and the
// containernetworking plugins.
package cni
