// Package plugins wires the built-in volume plugins into one registry, the
// way a node agent needs them: emptyDir, hostPath, configMap, secret,
// downwardAPI, projected and persistentVolumeClaim, plus any flex drivers
// and extra plugins the embedding program names.
//
// The agent's side of the contract:
//
//	reg, err := plugins.NewRegistry(ctx, plugins.Config{Objects: st})
//	paths, err := reg.SetUpPod(ctx, pod, podDir)  // before starting containers;
//	                                                // bind-mount paths[volume] per volumeMount
//	err = reg.UpdatePod(ctx, pod, podDir)         // when volume.Uses(pod, ...) an object that changed
//	err = reg.TearDownPod(ctx, podDir)            // after the pod's containers are gone
//
// and envvars.Resolver for each container's environment. refresher.Refresher
// does the UpdatePod calls from a watch on ConfigMaps and Secrets.
package plugins
