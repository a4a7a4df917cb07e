package envvars

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/configmap"
	"github.com/coxswain-io/coxswain/volume/downwardapi"
	"github.com/coxswain-io/coxswain/volume/secret"
)

// Resolver resolves environments. It is safe for concurrent use.
type Resolver struct {
	// Objects reads ConfigMaps and Secrets (a store.Store).
	Objects volume.ObjectGetter
	// NodeAllocatable (optional) gives resourceFieldRef values for limits a
	// container does not set.
	NodeAllocatable map[string]string
}

// Result is a resolved environment.
type Result struct {
	// Env is KEY=VALUE strings in definition order.
	Env []string
	// Skipped lists envFrom keys that were not valid variable names, as
	// "configMap ns/name: key".
	Skipped []string
}

type env struct {
	order  []string
	values map[string]string
}

func (e *env) set(k, v string) {
	if _, ok := e.values[k]; !ok {
		e.order = append(e.order, k)
	}
	e.values[k] = v
}

// Resolve returns the environment of container c of pod.
func (r *Resolver) Resolve(ctx context.Context, pod *api.Pod, c *api.Container) (*Result, error) {
	ns := pod.GetMetadata().GetNamespace()
	e := &env{values: map[string]string{}}
	res := &Result{}
	for i, from := range c.GetEnvFrom() {
		var (
			data     map[string][]byte
			err      error
			source   string
			optional bool
		)
		switch {
		case from.GetConfigMapRef() != nil && from.GetSecretRef() == nil:
			ref := from.GetConfigMapRef()
			source, optional = fmt.Sprintf("configMap %s/%s", ns, ref.GetName()), ref.GetOptional()
			data, err = configmap.Data(ctx, r.Objects, ns, ref.GetName())
		case from.GetSecretRef() != nil && from.GetConfigMapRef() == nil:
			ref := from.GetSecretRef()
			source, optional = fmt.Sprintf("secret %s/%s", ns, ref.GetName()), ref.GetOptional()
			data, err = secret.Data(ctx, r.Objects, ns, ref.GetName())
		default:
			return nil, fmt.Errorf("container %q: envFrom[%d]: exactly one of configMapRef and secretRef is required: %w", c.GetName(), i, volume.ErrInvalidSpec)
		}
		if err != nil {
			if optional && store.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("container %q: envFrom[%d]: %w", c.GetName(), i, err)
		}
		for _, k := range sortedKeys(data) {
			name := from.GetPrefix() + k
			if name == "" || strings.ContainsRune(name, '=') {
				res.Skipped = append(res.Skipped, source+": "+k)
				continue
			}
			e.set(name, string(data[k]))
		}
	}
	for i, v := range c.GetEnv() {
		if v.GetName() == "" || strings.ContainsRune(v.GetName(), '=') {
			return nil, fmt.Errorf("container %q: env[%d]: invalid name %q: %w", c.GetName(), i, v.GetName(), volume.ErrInvalidSpec)
		}
		if v.GetValueFrom() == nil {
			e.set(v.GetName(), expand(v.GetValue(), e.values))
			continue
		}
		val, ok, err := r.valueFrom(ctx, pod, c, v)
		if err != nil {
			return nil, fmt.Errorf("container %q: env %q: %w", c.GetName(), v.GetName(), err)
		}
		if ok {
			e.set(v.GetName(), val)
		}
	}
	res.Env = make([]string, 0, len(e.order))
	for _, k := range e.order {
		res.Env = append(res.Env, k+"="+e.values[k])
	}
	return res, nil
}

// valueFrom resolves one valueFrom; ok is false when an optional source is
// missing and the variable is skipped.
func (r *Resolver) valueFrom(ctx context.Context, pod *api.Pod, c *api.Container, v *api.EnvVar) (string, bool, error) {
	src := v.GetValueFrom()
	ns := pod.GetMetadata().GetNamespace()
	set := 0
	for _, b := range []bool{src.GetFieldRef() != nil, src.GetResourceFieldRef() != nil, src.GetConfigMapKeyRef() != nil, src.GetSecretKeyRef() != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return "", false, fmt.Errorf("valueFrom needs exactly one source, has %d: %w", set, volume.ErrInvalidSpec)
	}
	switch {
	case src.GetFieldRef() != nil:
		val, err := downwardapi.FieldValue(pod, src.GetFieldRef().GetFieldPath())
		return val, err == nil, err
	case src.GetResourceFieldRef() != nil:
		val, err := downwardapi.ResourceValue(pod, c.GetName(), src.GetResourceFieldRef(), r.NodeAllocatable)
		return val, err == nil, err
	case src.GetConfigMapKeyRef() != nil:
		ref := src.GetConfigMapKeyRef()
		data, err := configmap.Data(ctx, r.Objects, ns, ref.GetName())
		return lookup(data, err, ref.GetKey(), ref.GetOptional(), fmt.Sprintf("configMap %s/%s", ns, ref.GetName()))
	default:
		ref := src.GetSecretKeyRef()
		data, err := secret.Data(ctx, r.Objects, ns, ref.GetName())
		return lookup(data, err, ref.GetKey(), ref.GetOptional(), fmt.Sprintf("secret %s/%s", ns, ref.GetName()))
	}
}

func lookup(data map[string][]byte, err error, key string, optional bool, source string) (string, bool, error) {
	if err != nil {
		if optional && store.IsNotFound(err) {
			return "", false, nil
		}
		return "", false, err
	}
	val, ok := data[key]
	if !ok {
		if optional {
			return "", false, nil
		}
		return "", false, store.Errorf(store.ErrNotFound, "key %q in %s", key, source)
	}
	return string(val), true, nil
}

// expand replaces $(NAME) with defined values; $$ is a literal $.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
