package cni_test

import (
	"fmt"

	"github.com/coxswain-io/coxswain/network/cni"
)

func ExampleGenerateConfList() {
	conf, _ := cni.GenerateConfList(cni.Config{PodCIDR: "10.244.1.0/24", StateDir: "/var/lib/coxswain/cni"})
	fmt.Println(string(conf))
	// Output:
	// {
	//   "cniVersion": "1.1.0",
	//   "name": "coxswain",
	//   "plugins": [
	//     {
	//       "bridge": "cx0",
	//       "hairpinMode": true,
	//       "ipMasq": false,
	//       "ipam": {
	//         "dataDir": "/var/lib/coxswain/cni/ipam",
	//         "ranges": [
	//           [
	//             {
	//               "subnet": "10.244.1.0/24"
	//             }
	//           ]
	//         ],
	//         "routes": [
	//           {
	//             "dst": "0.0.0.0/0"
	//           }
	//         ],
	//         "type": "host-local"
	//       },
	//       "isGateway": true,
	//       "type": "bridge"
	//     },
	//     {
	//       "capabilities": {
	//         "portMappings": true
	//       },
	//       "snat": true,
	//       "type": "portmap"
	//     }
	//   ]
	// }
}

// Example shows the agent's use: one Network per node, SetUp when a pod
// sandbox is created, TearDown when it goes, Reconcile at start.
func Example() {
	n, err := cni.New(cni.Config{
		PodCIDR:  "10.244.1.0/24",         // the node's spec.podCIDR
		StateDir: "/var/lib/coxswain/cni", // cache and host-local allocations
		// PluginDirs defaults to $COXSWAIN_CNI_BIN_DIR, else /opt/cni/bin.
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n != nil)
	// A real agent then calls, per sandbox (as root):
	//   res, err := n.SetUp(ctx, network.Sandbox{ID: id, NetNS: path, ...})
	//   err = n.TearDown(ctx, sb)
	// and once at start: n.Reconcile(ctx, liveSandboxes).
}
