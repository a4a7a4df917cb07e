package runtime

import "strings"

// ResolveCommand returns the argv of a container with the Kubernetes rules:
// command replaces the image's entrypoint (and then the image's cmd is
// ignored); args replaces the image's cmd.
func ResolveCommand(img ImageConfig, command, args []string) []string {
	var argv []string
	switch {
	case len(command) > 0:
		argv = append(argv, command...)
		argv = append(argv, args...)
	case len(args) > 0:
		argv = append(argv, img.Entrypoint...)
		argv = append(argv, args...)
	default:
		argv = append(argv, img.Entrypoint...)
		argv = append(argv, img.Cmd...)
	}
	return argv
}

// MergeEnv returns the image's environment ("K=V" entries) overridden and
// extended by env, in order: the image's variables first, then new ones.
func MergeEnv(image []string, env []EnvVar) []string {
	out := make([]string, 0, len(image)+len(env))
	index := map[string]int{}
	for _, kv := range image {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			out[i] = kv
			continue
		}
		index[k] = len(out)
		out = append(out, kv)
	}
	for _, e := range env {
		kv := e.Name + "=" + e.Value
		if i, ok := index[e.Name]; ok {
			out[i] = kv
			continue
		}
		index[e.Name] = len(out)
		out = append(out, kv)
	}
	return out
}
