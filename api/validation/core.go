package validation

import (
	"strconv"

	"github.com/coxswain-io/coxswain/api"
)

var accessModes = []string{"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"}

func (e *errs) node(n *api.Node) {
	s := n.GetSpec()
	if c := s.GetPodCidr(); c != "" {
		e.cidr("spec.podCIDR", c)
	}
	for i, c := range s.GetPodCidrs() {
		e.cidr(path("spec.podCIDRs").index(i), c)
	}
	seen := map[string]bool{}
	for i, t := range s.GetTaints() {
		tp := path("spec.taints").index(i)
		if t.GetKey() == "" {
			e.required(tp.child("key"), "")
		} else {
			e.qualifiedName(tp.child("key"), t.GetKey())
		}
		if msg := labelValueError(t.GetValue()); msg != "" {
			e.invalid(tp.child("value"), t.GetValue(), "%s", msg)
		}
		e.oneOf(tp.child("effect"), t.GetEffect(), false, taintEffects...)
		k := t.GetKey() + ":" + t.GetEffect()
		if seen[k] {
			e.duplicate(tp, k)
		}
		seen[k] = true
	}
	st := n.GetStatus()
	e.quantities("status.capacity", st.GetCapacity(), false)
	e.quantities("status.allocatable", st.GetAllocatable(), false)
	for i, a := range st.GetAddresses() {
		ap := path("status.addresses").index(i)
		if a.GetType() == "" {
			e.required(ap.child("type"), "")
		}
		if a.GetAddress() == "" {
			e.required(ap.child("address"), "")
		}
	}
}

func (e *errs) service(s *api.ServiceSpec, p path) {
	if s == nil {
		e.required(p, "")
		return
	}
	typ := s.GetType()
	e.oneOf(p.child("type"), typ, true, "ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
	headless := s.GetClusterIp() == "None"
	switch ip := s.GetClusterIp(); {
	case ip == "" || headless:
	default:
		e.ip(p.child("clusterIP"), ip)
	}
	for i, ip := range s.GetClusterIps() {
		if ip != "None" {
			e.ip(p.child("clusterIPs").index(i), ip)
		}
	}
	if len(s.GetClusterIps()) > 0 && s.GetClusterIp() != "" && s.GetClusterIps()[0] != s.GetClusterIp() {
		e.invalid(p.child("clusterIPs").index(0), s.GetClusterIps()[0], "must match clusterIP")
	}
	if headless && (typ == "NodePort" || typ == "LoadBalancer") {
		e.invalid(p.child("clusterIP"), "None", "may not be None for type %s", typ)
	}
	if typ == "ExternalName" {
		if s.GetExternalName() == "" {
			e.required(p.child("externalName"), "when type is ExternalName")
		} else {
			e.dnsSubdomain(p.child("externalName"), s.GetExternalName())
		}
	} else if len(s.GetPorts()) == 0 && !headless {
		e.required(p.child("ports"), "")
	}
	names := map[string]bool{}
	portProto := map[string]bool{}
	nodePorts := map[string]bool{}
	for i, port := range s.GetPorts() {
		pp := p.child("ports").index(i)
		switch n := port.GetName(); {
		case n == "" && len(s.GetPorts()) > 1:
			e.required(pp.child("name"), "when there is more than one port")
		case n == "":
		case !IsDNS1123Label(n):
			e.dnsLabel(pp.child("name"), n)
		case names[n]:
			e.duplicate(pp.child("name"), n)
		}
		names[port.GetName()] = true
		e.port(pp.child("port"), port.GetPort())
		e.oneOf(pp.child("protocol"), port.GetProtocol(), true, protocols...)
		key := port.GetProtocol() + "/" + strconv.Itoa(int(port.GetPort()))
		if portProto[key] {
			e.duplicate(pp, key)
		}
		portProto[key] = true
		if headless {
			// A headless service's targetPort is ignored but must still be well-formed.
			if tp := port.GetTargetPort(); tp != nil && tp.GetValue() != nil {
				e.portRef(pp.child("targetPort"), tp, false)
			}
		} else {
			e.portRef(pp.child("targetPort"), port.GetTargetPort(), false)
		}
		if np := port.GetNodePort(); np != 0 {
			if typ != "NodePort" && typ != "LoadBalancer" {
				e.forbidden(pp.child("nodePort"), "may not be used when type is %q", typ)
			} else {
				e.port(pp.child("nodePort"), np)
				k := port.GetProtocol() + "/" + strconv.Itoa(int(np))
				if nodePorts[k] {
					e.duplicate(pp.child("nodePort"), np)
				}
				nodePorts[k] = true
			}
		}
	}
	e.labelMap(p.child("selector"), s.GetSelector())
	e.oneOf(p.child("sessionAffinity"), s.GetSessionAffinity(), true, "None", "ClientIP")
	if c := s.GetSessionAffinityConfig().GetClientIp(); c != nil {
		if s.GetSessionAffinity() != "ClientIP" {
			e.forbidden(p.child("sessionAffinityConfig"), "may only be set when sessionAffinity is ClientIP")
		} else if c.GetTimeoutSeconds() <= 0 || c.GetTimeoutSeconds() > 86400 {
			e.invalid(p.child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), c.GetTimeoutSeconds(), "must be between 1 and 86400")
		}
	}
	for i, ip := range s.GetExternalIps() {
		e.ip(p.child("externalIPs").index(i), ip)
	}
	if ip := s.GetLoadBalancerIp(); ip != "" {
		e.ip(p.child("loadBalancerIP"), ip)
	}
	e.oneOf(p.child("externalTrafficPolicy"), s.GetExternalTrafficPolicy(), true, "Cluster", "Local")
	if s.GetExternalTrafficPolicy() != "" && typ != "NodePort" && typ != "LoadBalancer" {
		e.forbidden(p.child("externalTrafficPolicy"), "may only be set when type is NodePort or LoadBalancer")
	}
	e.oneOf(p.child("internalTrafficPolicy"), s.GetInternalTrafficPolicy(), true, "Cluster", "Local")
}

func (e *errs) endpoints(ep *api.Endpoints) {
	for i, s := range ep.GetSubsets() {
		sp := path("subsets").index(i)
		addrs := func(list []*api.EndpointAddress, ap path) {
			for j, a := range list {
				e.ip(ap.index(j).child("ip"), a.GetIp())
				if h := a.GetHostname(); h != "" {
					e.dnsLabel(ap.index(j).child("hostname"), h)
				}
				if n := a.GetNodeName(); n != "" {
					e.dnsSubdomain(ap.index(j).child("nodeName"), n)
				}
			}
		}
		addrs(s.GetAddresses(), sp.child("addresses"))
		addrs(s.GetNotReadyAddresses(), sp.child("notReadyAddresses"))
		names := map[string]bool{}
		for j, port := range s.GetPorts() {
			pp := sp.child("ports").index(j)
			if n := port.GetName(); n != "" {
				e.dnsLabel(pp.child("name"), n)
				if names[n] {
					e.duplicate(pp.child("name"), n)
				}
				names[n] = true
			} else if len(s.GetPorts()) > 1 {
				e.required(pp.child("name"), "when there is more than one port")
			}
			e.port(pp.child("port"), port.GetPort())
			e.oneOf(pp.child("protocol"), port.GetProtocol(), true, protocols...)
		}
	}
}

// maxDataSize is the limit on ConfigMap and Secret payloads.
const maxDataSize = 1 << 20

// configKeys checks the keys of one data map of a ConfigMap or Secret;
// seen holds the keys of the maps checked before, named by other.
func (e *errs) configKeys(p path, keys []string, seen map[string]bool, other string) {
	for _, k := range keys {
		if !IsConfigKey(k) {
			e.invalid(p, k, "a data key must consist of alphanumeric characters, '-', '_' or '.'")
		}
		if seen[k] {
			e.add(TypeDuplicate, p.key(k), k, "key also present in %s", other)
		}
		seen[k] = true
	}
}

func (e *errs) configMap(c *api.ConfigMap) {
	seen := map[string]bool{}
	size := 0
	for k, v := range c.GetData() {
		size += len(k) + len(v)
	}
	for k, v := range c.GetBinaryData() {
		size += len(k) + len(v)
	}
	e.configKeys("data", sortedKeys(c.GetData()), seen, "")
	e.configKeys("binaryData", sortedKeys(c.GetBinaryData()), seen, "data")
	if size > maxDataSize {
		e.invalid("data", "", "may not be more than 1 MiB in total, got %d bytes", size)
	}
}

func (e *errs) secret(s *api.Secret) {
	seen := map[string]bool{}
	size := 0
	for k, v := range s.GetData() {
		size += len(k) + len(v)
	}
	for k, v := range s.GetStringData() {
		size += len(k) + len(v)
	}
	e.configKeys("data", sortedKeys(s.GetData()), seen, "")
	for _, k := range sortedKeys(s.GetStringData()) {
		if !IsConfigKey(k) {
			e.invalid("stringData", k, "a data key must consist of alphanumeric characters, '-', '_' or '.'")
		}
	}
	if size > maxDataSize {
		e.invalid("data", "", "may not be more than 1 MiB in total, got %d bytes", size)
	}
	has := func(k string) bool {
		_, a := s.GetData()[k]
		_, b := s.GetStringData()[k]
		return a || b
	}
	switch s.GetType() {
	case "kubernetes.io/tls":
		for _, k := range []string{"tls.crt", "tls.key"} {
			if !has(k) {
				e.required(path("data").key(k), "for type kubernetes.io/tls")
			}
		}
	case "kubernetes.io/dockerconfigjson":
		if !has(".dockerconfigjson") {
			e.required("data[.dockerconfigjson]", "for type kubernetes.io/dockerconfigjson")
		}
	case "kubernetes.io/basic-auth":
		if !has("username") && !has("password") {
			e.required("data", "username or password for type kubernetes.io/basic-auth")
		}
	case "kubernetes.io/ssh-auth":
		if !has("ssh-privatekey") {
			e.required("data[ssh-privatekey]", "for type kubernetes.io/ssh-auth")
		}
	}
}

func (e *errs) event(ev *api.Event) {
	ref := ev.GetInvolvedObject()
	if ref.GetKind() == "" {
		e.required("involvedObject.kind", "")
	}
	if ref.GetName() == "" {
		e.required("involvedObject.name", "")
	}
	e.oneOf("type", ev.GetType(), true, "Normal", "Warning")
	e.nonNegative("count", int64(ev.GetCount()))
	if len(ev.GetMessage()) > 1024 {
		e.invalid("message", "", "may not be longer than 1024 characters")
	}
}

func (e *errs) accessModes(p path, modes []string) {
	if len(modes) == 0 {
		e.required(p, "at least one access mode is required")
	}
	for i, m := range modes {
		e.oneOf(p.index(i), m, false, accessModes...)
	}
}

func (e *errs) persistentVolume(s *api.PersistentVolumeSpec, p path) {
	if s == nil {
		e.required(p, "")
		return
	}
	e.accessModes(p.child("accessModes"), s.GetAccessModes())
	capacity := e.quantities(p.child("capacity"), s.GetCapacity(), false)
	if _, ok := s.GetCapacity()["storage"]; !ok {
		e.required(p.child("capacity").key("storage"), "")
	} else if q, ok := capacity["storage"]; ok && q.IsZero() {
		e.invalid(p.child("capacity").key("storage"), "0", "must be greater than 0")
	}
	e.oneOf(p.child("persistentVolumeReclaimPolicy"), s.GetPersistentVolumeReclaimPolicy(), true, "Retain", "Delete", "Recycle")
	e.oneOf(p.child("volumeMode"), s.GetVolumeMode(), true, "Filesystem", "Block")
	if n := s.GetStorageClassName(); n != "" {
		e.dnsSubdomain(p.child("storageClassName"), n)
	}
	var sources []string
	if hp := s.GetHostPath(); hp != nil {
		sources = append(sources, "hostPath")
		if hp.GetPath() == "" {
			e.required(p.child("hostPath", "path"), "")
		}
	}
	if l := s.GetLocal(); l != nil {
		sources = append(sources, "local")
		if l.GetPath() == "" {
			e.required(p.child("local", "path"), "")
		}
	}
	if f := s.GetFlexVolume(); f != nil {
		sources = append(sources, "flexVolume")
		if f.GetDriver() == "" {
			e.required(p.child("flexVolume", "driver"), "")
		}
	}
	switch len(sources) {
	case 0:
		e.required(p, "must specify a volume source (hostPath, local or flexVolume)")
	case 1:
	default:
		e.forbidden(p.child(sources[1]), "may not specify more than one volume source")
	}
	if s.GetLocal() != nil && s.GetNodeAffinity() == nil {
		e.required(p.child("nodeAffinity"), "for a local volume")
	}
	if na := s.GetNodeAffinity(); na != nil {
		if na.GetRequired() == nil {
			e.required(p.child("nodeAffinity", "required"), "")
		} else {
			e.nodeSelector(na.GetRequired(), p.child("nodeAffinity", "required"))
		}
	}
}

func (e *errs) pvcSpec(s *api.PersistentVolumeClaimSpec, p path) {
	if s == nil {
		e.required(p, "")
		return
	}
	e.accessModes(p.child("accessModes"), s.GetAccessModes())
	e.labelSelector(s.GetSelector(), p.child("selector"))
	rp := p.child("resources", "requests")
	req := e.quantities(rp, s.GetResources().GetRequests(), false)
	e.quantities(p.child("resources", "limits"), s.GetResources().GetLimits(), false)
	if _, ok := s.GetResources().GetRequests()["storage"]; !ok {
		e.required(rp.key("storage"), "")
	} else if q, ok := req["storage"]; ok && q.IsZero() {
		e.invalid(rp.key("storage"), "0", "must be greater than 0")
	}
	if s.StorageClassName != nil && s.GetStorageClassName() != "" {
		e.dnsSubdomain(p.child("storageClassName"), s.GetStorageClassName())
	}
	e.oneOf(p.child("volumeMode"), s.GetVolumeMode(), true, "Filesystem", "Block")
}

func (e *errs) resourceQuota(s *api.ResourceQuotaSpec, p path) {
	if s == nil {
		return
	}
	e.quantities(p.child("hard"), s.GetHard(), false)
	seen := map[string]bool{}
	for i, sc := range s.GetScopes() {
		e.oneOf(p.child("scopes").index(i), sc, false, "Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass")
		if seen[sc] {
			e.duplicate(p.child("scopes").index(i), sc)
		}
		seen[sc] = true
	}
}

func (e *errs) limitRange(s *api.LimitRangeSpec, p path) {
	for i, it := range s.GetLimits() {
		ip := p.child("limits").index(i)
		e.oneOf(ip.child("type"), it.GetType(), false, "Pod", "Container", "PersistentVolumeClaim")
		maxL := e.quantities(ip.child("max"), it.GetMax(), false)
		minL := e.quantities(ip.child("min"), it.GetMin(), false)
		def := e.quantities(ip.child("default"), it.GetDefault(), false)
		defReq := e.quantities(ip.child("defaultRequest"), it.GetDefaultRequest(), false)
		if it.GetType() == "Pod" && (len(def) > 0 || len(defReq) > 0) {
			e.forbidden(ip.child("default"), "may not be set when type is Pod")
		}
		for _, name := range minL.Names() {
			if mx, ok := maxL[name]; ok && minL[name].Cmp(mx) > 0 {
				e.invalid(ip.child("min").key(name), minL[name].String(), "min value %s is greater than max value %s", minL[name], mx)
			}
		}
		for _, pair := range []struct {
			name string
			l    map[string]string
		}{{"default", it.GetDefault()}, {"defaultRequest", it.GetDefaultRequest()}} {
			vals := def
			if pair.name == "defaultRequest" {
				vals = defReq
			}
			for _, name := range vals.Names() {
				v := vals[name]
				if mn, ok := minL[name]; ok && v.Cmp(mn) < 0 {
					e.invalid(ip.child(pair.name).key(name), v.String(), "must be greater than or equal to min value %s", mn)
				}
				if mx, ok := maxL[name]; ok && v.Cmp(mx) > 0 {
					e.invalid(ip.child(pair.name).key(name), v.String(), "must be less than or equal to max value %s", mx)
				}
			}
		}
		for _, name := range defReq.Names() {
			if d, ok := def[name]; ok && defReq[name].Cmp(d) > 0 {
				e.invalid(ip.child("defaultRequest").key(name), defReq[name].String(), "must be less than or equal to default value %s", d)
			}
		}
	}
}
