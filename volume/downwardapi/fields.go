package downwardapi

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/resource"
	"github.com/coxswain-io/coxswain/volume"
)

// FieldValue returns the value of a pod field by its fieldRef path.
func FieldValue(pod *api.Pod, fieldPath string) (string, error) {
	m := pod.GetMetadata()
	if key, ok := subscript(fieldPath, "metadata.labels"); ok {
		return m.GetLabels()[key], nil
	}
	if key, ok := subscript(fieldPath, "metadata.annotations"); ok {
		return m.GetAnnotations()[key], nil
	}
	switch fieldPath {
	case "metadata.name":
		return m.GetName(), nil
	case "metadata.namespace":
		return m.GetNamespace(), nil
	case "metadata.uid":
		return m.GetUid(), nil
	case "metadata.labels":
		return formatMap(m.GetLabels()), nil
	case "metadata.annotations":
		return formatMap(m.GetAnnotations()), nil
	case "spec.nodeName":
		return pod.GetSpec().GetNodeName(), nil
	case "spec.serviceAccountName":
		return pod.GetSpec().GetServiceAccountName(), nil
	case "status.podIP":
		return pod.GetStatus().GetPodIp(), nil
	case "status.hostIP":
		return pod.GetStatus().GetHostIp(), nil
	case "status.podIPs":
		ips := make([]string, 0, len(pod.GetStatus().GetPodIps()))
		for _, ip := range pod.GetStatus().GetPodIps() {
			ips = append(ips, ip.GetIp())
		}
		return strings.Join(ips, ","), nil
	}
	return "", fmt.Errorf("fieldPath %q is not supported: %w", fieldPath, volume.ErrInvalidSpec)
}

// subscript parses prefix['key'] (or prefix["key"]).
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"[")
	if !ok || !strings.HasSuffix(rest, "]") || len(rest) < 3 {
		return "", false
	}
	inner := rest[:len(rest)-1]
	q := inner[0]
	if (q != '\'' && q != '"') || inner[len(inner)-1] != q || len(inner) < 2 {
		return "", false
	}
	return inner[1 : len(inner)-1], true
}

// formatMap renders labels or annotations one key="value" per line, sorted
// by key, with values quoted Go-style.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(m[k]))
	}
	return b.String()
}

// ResourceValue returns a container's resource limit or request named by
// sel.resource, divided by sel.divisor and rounded up. containerName is used
// when sel.containerName is empty (the env case). allocatable, if not nil,
// supplies the node's amounts for unset limits.
func ResourceValue(pod *api.Pod, containerName string, sel *api.ResourceFieldSelector, allocatable map[string]string) (string, error) {
	name := sel.GetContainerName()
	if name == "" {
		name = containerName
	}
	var c *api.Container
	for _, cc := range append(append([]*api.Container(nil), pod.GetSpec().GetContainers()...), pod.GetSpec().GetInitContainers()...) {
		if cc.GetName() == name {
			c = cc
			break
		}
	}
	if c == nil {
		return "", fmt.Errorf("resourceFieldRef %q: container %q not found: %w", sel.GetResource(), name, volume.ErrInvalidSpec)
	}
	kind, res, ok := strings.Cut(sel.GetResource(), ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("resourceFieldRef %q not supported: %w", sel.GetResource(), volume.ErrInvalidSpec)
	}
	switch res {
	case resource.CPU, resource.Memory, resource.EphemeralStorage:
	default:
		return "", fmt.Errorf("resourceFieldRef %q not supported: %w", sel.GetResource(), volume.ErrInvalidSpec)
	}
	limits, requests := c.GetResources().GetLimits(), c.GetResources().GetRequests()
	var raw string
	switch kind {
	case "limits":
		raw = limits[res]
		if raw == "" {
			raw = allocatable[res]
		}
	case "requests":
		raw = requests[res]
		if raw == "" {
			raw = limits[res]
		}
	}
	if raw == "" {
		raw = "0"
	}
	q, err := resource.ParseQuantity(raw)
	if err != nil {
		return "", fmt.Errorf("resourceFieldRef %q: container %q: %w: %w", sel.GetResource(), name, volume.ErrInvalidSpec, err)
	}
	divisor := resource.NewQuantity(1)
	if d := sel.GetDivisor(); d != "" {
		divisor, err = resource.ParseQuantity(d)
		if err != nil {
			return "", fmt.Errorf("resourceFieldRef %q: divisor: %w: %w", sel.GetResource(), volume.ErrInvalidSpec, err)
		}
	}
	dm := divisor.MilliValue()
	if dm <= 0 {
		return "", fmt.Errorf("resourceFieldRef %q: divisor %q must be positive: %w", sel.GetResource(), sel.GetDivisor(), volume.ErrInvalidSpec)
	}
	qm := q.MilliValue()
	v := qm / dm
	if qm%dm != 0 {
		v++
	}
	return strconv.FormatInt(v, 10), nil
}
