// Package agent is the node agent: it registers its Node, heartbeats, and runs
// the pods bound to its node through the runtime, network and volume
// interfaces.
package agent
