// Package proxy programs service virtual IPs and node ports with iptables.
package proxy
