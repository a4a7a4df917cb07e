// Package flex runs out-of-process volume drivers, so a storage vendor plugs
// in without linking against Coxswain. A driver is an executable called as
//
//	<driver> init
//	<driver> attach <json options> <node name>
//	<driver> detach <volume name> <node name>
//	<driver> mount <mount dir> <json options>
//	<driver> unmount <mount dir>
//
// and printing one JSON object on stdout:
//
//	{"status": "Success" | "Failure" | "Not supported",
//	 "message": "why, on failure",
//	 "device": "/dev/... (attach)",
//	 "capabilities": {"attach": true}   (init)}
//
// The options are the volume's flexVolume options plus
//
//	coxswain.io/fsType, coxswain.io/readwrite ("ro" or "rw"),
//	coxswain.io/volumeName, coxswain.io/pod.name, coxswain.io/pod.namespace,
//	coxswain.io/pod.uid (mount only), and
//	coxswain.io/secret/<key> (base64) for each key of the secretRef Secret.
//
// mount must be idempotent (called again for a volume already mounted, it
// succeeds and changes nothing), and unmount must leave the directory
// unmounted. Load runs init and returns a plugin that is a volume.Mounter,
// and also a volume.Attacher when the driver reports the attach capability.
// The plugin's name is the driver name, and it handles flexVolume sources
// (pod volumes and PersistentVolumes) with that driver.
package flex
