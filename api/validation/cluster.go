package validation

import (
	"strings"

	"github.com/coxswain-io/coxswain/api"
)

func (e *errs) storageClass(sc *api.StorageClass) {
	if sc.GetProvisioner() == "" {
		e.required("provisioner", "")
	} else {
		e.qualifiedName("provisioner", sc.GetProvisioner())
	}
	if sc.ReclaimPolicy != nil {
		e.oneOf("reclaimPolicy", sc.GetReclaimPolicy(), false, "Retain", "Delete")
	}
	if sc.VolumeBindingMode != nil {
		e.oneOf("volumeBindingMode", sc.GetVolumeBindingMode(), false, "Immediate", "WaitForFirstConsumer")
	}
}

func (e *errs) volumeAttachment(s *api.VolumeAttachmentSpec, p path) {
	if s.GetAttacher() == "" {
		e.required(p.child("attacher"), "")
	}
	if s.GetPersistentVolumeName() == "" {
		e.required(p.child("persistentVolumeName"), "")
	}
	if s.GetNodeName() == "" {
		e.required(p.child("nodeName"), "")
	} else {
		e.dnsSubdomain(p.child("nodeName"), s.GetNodeName())
	}
}

// ingressHost checks a rule host: a DNS subdomain, optionally "*." first.
func (e *errs) ingressHost(p path, h string) {
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		if !IsDNS1123Subdomain(rest) {
			e.invalid(p, h, "a wildcard host must be '*.' followed by a lower-case RFC 1123 subdomain")
		}
		return
	}
	e.dnsSubdomain(p, h)
}

func (e *errs) ingressBackend(b *api.IngressBackend, p path) {
	n := 0
	if s := b.GetService(); s != nil {
		n++
		sp := p.child("service")
		if s.GetName() == "" {
			e.required(sp.child("name"), "")
		} else {
			e.dnsLabel(sp.child("name"), s.GetName())
		}
		port := s.GetPort()
		switch {
		case port.GetName() != "" && port.GetNumber() != 0:
			e.invalid(sp.child("port"), "", "cannot specify both port name and port number")
		case port.GetName() != "":
			if !IsPortName(port.GetName()) {
				e.invalid(sp.child("port", "name"), port.GetName(), "must be an IANA service name")
			}
		case port.GetNumber() != 0:
			e.port(sp.child("port", "number"), port.GetNumber())
		default:
			e.required(sp.child("port"), "port name or number is required")
		}
	}
	if r := b.GetResource(); r != nil {
		n++
		if r.GetKind() == "" {
			e.required(p.child("resource", "kind"), "")
		}
		if r.GetName() == "" {
			e.required(p.child("resource", "name"), "")
		}
	}
	if n != 1 {
		e.invalid(p, n, "exactly one of service or resource must be set")
	}
}

func (e *errs) ingress(s *api.IngressSpec, p path) {
	if s == nil {
		e.required(p, "")
		return
	}
	if s.GetDefaultBackend() == nil && len(s.GetRules()) == 0 {
		e.required(p.child("rules"), "either defaultBackend or rules must be specified")
	}
	if b := s.GetDefaultBackend(); b != nil {
		e.ingressBackend(b, p.child("defaultBackend"))
	}
	if s.IngressClassName != nil {
		e.dnsSubdomain(p.child("ingressClassName"), s.GetIngressClassName())
	}
	for i, t := range s.GetTls() {
		tp := p.child("tls").index(i)
		for j, h := range t.GetHosts() {
			e.ingressHost(tp.child("hosts").index(j), h)
		}
		if n := t.GetSecretName(); n != "" {
			e.dnsSubdomain(tp.child("secretName"), n)
		}
	}
	for i, r := range s.GetRules() {
		rp := p.child("rules").index(i)
		if h := r.GetHost(); h != "" {
			e.ingressHost(rp.child("host"), h)
		}
		if r.GetHttp() == nil {
			continue
		}
		hp := rp.child("http")
		if len(r.GetHttp().GetPaths()) == 0 {
			e.required(hp.child("paths"), "")
		}
		for j, pa := range r.GetHttp().GetPaths() {
			pp := hp.child("paths").index(j)
			e.oneOf(pp.child("pathType"), pa.GetPathType(), false, "Exact", "Prefix", "ImplementationSpecific")
			if pa.GetPathType() == "Exact" || pa.GetPathType() == "Prefix" {
				if !strings.HasPrefix(pa.GetPath(), "/") {
					e.invalid(pp.child("path"), pa.GetPath(), "must be an absolute path")
				} else if strings.Contains(pa.GetPath(), "//") {
					e.invalid(pp.child("path"), pa.GetPath(), "must not contain '//'")
				}
			}
			if pa.GetBackend() == nil {
				e.required(pp.child("backend"), "")
			} else {
				e.ingressBackend(pa.GetBackend(), pp.child("backend"))
			}
		}
	}
}

// maxUserPriority is the highest value a user's PriorityClass may have;
// higher values are reserved for system classes.
const maxUserPriority = 1_000_000_000

func (e *errs) priorityClass(pc *api.PriorityClass) {
	if pc.GetValue() > maxUserPriority && !strings.HasPrefix(pc.GetMetadata().GetName(), "system-") {
		e.invalid("value", pc.GetValue(), "must not be greater than %d", maxUserPriority)
	}
	if pc.PreemptionPolicy != nil {
		e.oneOf("preemptionPolicy", pc.GetPreemptionPolicy(), false, preemptionPolicy...)
	}
}

func (e *errs) policyRules(rules []*api.PolicyRule, p path) {
	for i, r := range rules {
		rp := p.index(i)
		if len(r.GetVerbs()) == 0 {
			e.required(rp.child("verbs"), "verbs must contain at least one value")
		}
		if len(r.GetResources()) == 0 {
			e.required(rp.child("resources"), "resources must contain at least one value")
		}
		if len(r.GetApiGroups()) == 0 {
			e.required(rp.child("apiGroups"), "apiGroups must contain at least one value (\"\" for the core group)")
		}
	}
}

func (e *errs) roleBinding(subjects []*api.Subject, ref *api.RoleRef, cluster bool) {
	if ref == nil {
		e.required("roleRef", "")
	} else {
		if cluster {
			e.oneOf("roleRef.kind", ref.GetKind(), false, "ClusterRole")
		} else {
			e.oneOf("roleRef.kind", ref.GetKind(), false, "Role", "ClusterRole")
		}
		if ref.GetName() == "" {
			e.required("roleRef.name", "")
		} else if !IsPathSegmentName(ref.GetName()) {
			e.invalid("roleRef.name", ref.GetName(), "must not be '.' or '..' or contain '/' or '%%'")
		}
		e.oneOf("roleRef.apiGroup", ref.GetApiGroup(), false, "rbac.authorization.k8s.io")
	}
	for i, s := range subjects {
		sp := path("subjects").index(i)
		e.oneOf(sp.child("kind"), s.GetKind(), false, "User", "Group", "ServiceAccount")
		if s.GetName() == "" {
			e.required(sp.child("name"), "")
		}
		switch s.GetKind() {
		case "ServiceAccount":
			if s.GetApiGroup() != "" {
				e.add(TypeNotSupported, sp.child("apiGroup"), s.GetApiGroup(), "supported values: \"\"")
			}
			if s.GetName() != "" {
				e.dnsSubdomain(sp.child("name"), s.GetName())
			}
			if cluster && s.GetNamespace() == "" {
				e.required(sp.child("namespace"), "for a ServiceAccount subject")
			}
		case "User", "Group":
			e.oneOf(sp.child("apiGroup"), s.GetApiGroup(), false, "rbac.authorization.k8s.io")
		}
	}
}
