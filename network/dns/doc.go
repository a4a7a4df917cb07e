// Package dns is the cluster DNS: a server (github.com/miekg/dns) that
// answers for service names from Services and Endpoints it watches in a
// store.Store, and ResolvConf, which writes a pod's resolv.conf.
//
// Names served, with domain defaulting to cluster.local:
//
//	<service>.<namespace>.svc.<domain>            A/AAAA: the cluster IP;
//	                                              headless: every ready pod IP
//	<hostname>.<service>.<namespace>.svc.<domain> A/AAAA: a headless service's
//	                                              endpoint with that hostname
//	_<port>._<proto>.<service>.<namespace>.svc.<domain>  SRV for named ports
//	ExternalName services                         CNAME to the external name
//
// A name under the domain that does not exist gets NXDOMAIN; other names get
// REFUSED (the server is not a recursive resolver).
package dns
