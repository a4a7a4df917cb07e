package dns_test

import (
	"fmt"

	"github.com/coxswain-io/coxswain/network/dns"
)

func ExampleResolvConf() {
	conf, _ := dns.ResolvConf("shop", "cluster.local", []string{"10.96.0.10"})
	fmt.Print(string(conf))
	// Output:
	// nameserver 10.96.0.10
	// search shop.svc.cluster.local svc.cluster.local cluster.local
	// options ndots:5
}
