package validation

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/coxswain-io/coxswain/api"
)

var (
	restartPolicies  = []string{"Always", "OnFailure", "Never"}
	dnsPolicies      = []string{"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"}
	pullPolicies     = []string{"Always", "IfNotPresent", "Never"}
	protocols        = []string{"TCP", "UDP", "SCTP"}
	taintEffects     = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}
	selectorOps      = []string{"In", "NotIn", "Exists", "DoesNotExist"}
	nodeSelectorOps  = []string{"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}
	preemptionPolicy = []string{"PreemptLowerPriority", "Never"}
)

// podSpec checks a pod's spec. A controller's pod template gets the same
// rules; the caller adds the controller's own (restartPolicy, labels).
func (e *errs) podSpec(s *api.PodSpec, p path) {
	if s == nil {
		e.required(p, "")
		return
	}
	volumes := e.volumes(s.GetVolumes(), p.child("volumes"))
	if len(s.GetContainers()) == 0 {
		e.required(p.child("containers"), "at least one container is required")
	}
	names := map[string]bool{}
	portNames := map[string]bool{}
	for i, c := range s.GetInitContainers() {
		e.container(c, p.child("initContainers").index(i), volumes, names, portNames, true)
	}
	for i, c := range s.GetContainers() {
		e.container(c, p.child("containers").index(i), volumes, names, portNames, false)
	}
	e.oneOf(p.child("restartPolicy"), s.GetRestartPolicy(), true, restartPolicies...)
	e.oneOf(p.child("dnsPolicy"), s.GetDnsPolicy(), true, dnsPolicies...)
	if s.GetDnsPolicy() == "None" && s.GetDnsConfig() == nil {
		e.required(p.child("dnsConfig"), "must be provided when dnsPolicy is None")
	}
	e.nonNegative(p.child("terminationGracePeriodSeconds"), s.GetTerminationGracePeriodSeconds())
	if v := s.GetActiveDeadlineSeconds(); v != 0 {
		e.positive(p.child("activeDeadlineSeconds"), v)
	}
	e.labelMap(p.child("nodeSelector"), s.GetNodeSelector())
	if n := s.GetServiceAccountName(); n != "" {
		e.dnsSubdomain(p.child("serviceAccountName"), n)
	}
	if n := s.GetNodeName(); n != "" {
		e.dnsSubdomain(p.child("nodeName"), n)
	}
	if n := s.GetHostname(); n != "" {
		e.dnsLabel(p.child("hostname"), n)
	}
	if n := s.GetSubdomain(); n != "" {
		e.dnsLabel(p.child("subdomain"), n)
	}
	if n := s.GetSchedulerName(); n != "" {
		e.dnsSubdomain(p.child("schedulerName"), n)
	}
	if n := s.GetPriorityClassName(); n != "" {
		e.dnsSubdomain(p.child("priorityClassName"), n)
	}
	e.oneOf(p.child("preemptionPolicy"), s.GetPreemptionPolicy(), true, preemptionPolicy...)
	for i, r := range s.GetImagePullSecrets() {
		if r.GetName() == "" {
			e.required(p.child("imagePullSecrets").index(i).child("name"), "")
		}
	}
	if sc := s.GetSecurityContext(); sc != nil {
		sp := p.child("securityContext")
		if sc.RunAsUser != nil {
			e.nonNegative(sp.child("runAsUser"), sc.GetRunAsUser())
		}
		if sc.RunAsGroup != nil {
			e.nonNegative(sp.child("runAsGroup"), sc.GetRunAsGroup())
		}
		if sc.FsGroup != nil {
			e.nonNegative(sp.child("fsGroup"), sc.GetFsGroup())
		}
		for i, g := range sc.GetSupplementalGroups() {
			e.nonNegative(sp.child("supplementalGroups").index(i), g)
		}
		for i, sy := range sc.GetSysctls() {
			if sy.GetName() == "" {
				e.required(sp.child("sysctls").index(i).child("name"), "")
			}
		}
	}
	for i, h := range s.GetHostAliases() {
		hp := p.child("hostAliases").index(i)
		e.ip(hp.child("ip"), h.GetIp())
		for j, n := range h.GetHostnames() {
			e.dnsSubdomain(hp.child("hostnames").index(j), n)
		}
	}
	if dc := s.GetDnsConfig(); dc != nil {
		dp := p.child("dnsConfig")
		if len(dc.GetNameservers()) > 3 {
			e.invalid(dp.child("nameservers"), len(dc.GetNameservers()), "must not have more than 3 nameservers")
		}
		for i, ns := range dc.GetNameservers() {
			e.ip(dp.child("nameservers").index(i), ns)
		}
		for i, o := range dc.GetOptions() {
			if o.GetName() == "" {
				e.required(dp.child("options").index(i).child("name"), "")
			}
		}
	}
	e.affinity(s.GetAffinity(), p.child("affinity"))
	for i, t := range s.GetTolerations() {
		e.toleration(t, p.child("tolerations").index(i))
	}
	for i, c := range s.GetTopologySpreadConstraints() {
		cp := p.child("topologySpreadConstraints").index(i)
		e.positive(cp.child("maxSkew"), int64(c.GetMaxSkew()))
		if c.GetTopologyKey() == "" {
			e.required(cp.child("topologyKey"), "")
		} else {
			e.qualifiedName(cp.child("topologyKey"), c.GetTopologyKey())
		}
		e.oneOf(cp.child("whenUnsatisfiable"), c.GetWhenUnsatisfiable(), false, "DoNotSchedule", "ScheduleAnyway")
		e.labelSelector(c.GetLabelSelector(), cp.child("labelSelector"))
		if c.MinDomains != nil {
			e.positive(cp.child("minDomains"), int64(c.GetMinDomains()))
		}
	}
}

// volumes checks pod volumes and returns their names.
func (e *errs) volumes(vols []*api.Volume, p path) map[string]bool {
	names := map[string]bool{}
	for i, v := range vols {
		vp := p.index(i)
		switch {
		case v.GetName() == "":
			e.required(vp.child("name"), "")
		case names[v.GetName()]:
			e.duplicate(vp.child("name"), v.GetName())
		default:
			e.dnsLabel(vp.child("name"), v.GetName())
		}
		names[v.GetName()] = true
		var sources []string
		if s := v.GetEmptyDir(); s != nil {
			sources = append(sources, "emptyDir")
			e.oneOf(vp.child("emptyDir", "medium"), s.GetMedium(), true, "", "Memory")
			if s.GetSizeLimit() != "" {
				e.quantities(vp.child("emptyDir"), map[string]string{"sizeLimit": s.GetSizeLimit()}, false)
			}
		}
		if s := v.GetHostPath(); s != nil {
			sources = append(sources, "hostPath")
			sp := vp.child("hostPath")
			if s.GetPath() == "" {
				e.required(sp.child("path"), "")
			} else if !filepath.IsAbs(s.GetPath()) {
				e.invalid(sp.child("path"), s.GetPath(), "must be an absolute path")
			}
			e.oneOf(sp.child("type"), s.GetType(), true, "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice")
		}
		if s := v.GetConfigMap(); s != nil {
			sources = append(sources, "configMap")
			e.configMapSource(s, vp.child("configMap"))
		}
		if s := v.GetSecret(); s != nil {
			sources = append(sources, "secret")
			e.secretSource(s, vp.child("secret"))
		}
		if s := v.GetDownwardApi(); s != nil {
			sources = append(sources, "downwardAPI")
			e.downwardAPI(s, vp.child("downwardAPI"))
		}
		if s := v.GetPersistentVolumeClaim(); s != nil {
			sources = append(sources, "persistentVolumeClaim")
			if s.GetClaimName() == "" {
				e.required(vp.child("persistentVolumeClaim", "claimName"), "")
			}
		}
		if s := v.GetProjected(); s != nil {
			sources = append(sources, "projected")
			pp := vp.child("projected")
			e.mode(pp.child("defaultMode"), s.DefaultMode)
			for j, src := range s.GetSources() {
				sp := pp.child("sources").index(j)
				n := 0
				if src.GetConfigMap() != nil {
					n++
					e.configMapSource(src.GetConfigMap(), sp.child("configMap"))
				}
				if src.GetSecret() != nil {
					n++
					e.secretSource(src.GetSecret(), sp.child("secret"))
				}
				if src.GetDownwardApi() != nil {
					n++
					e.downwardAPI(src.GetDownwardApi(), sp.child("downwardAPI"))
				}
				if n != 1 {
					e.invalid(sp, n, "exactly one of configMap, secret or downwardAPI must be set")
				}
			}
		}
		if s := v.GetFlexVolume(); s != nil {
			sources = append(sources, "flexVolume")
			if s.GetDriver() == "" {
				e.required(vp.child("flexVolume", "driver"), "")
			}
		}
		switch len(sources) {
		case 0:
			e.required(vp, "must specify a volume source (emptyDir, hostPath, configMap, secret, downwardAPI, persistentVolumeClaim, projected or flexVolume)")
		case 1:
		default:
			e.forbidden(vp.child(sources[1]), "may not specify more than one volume source (%s)", strings.Join(sources, ", "))
		}
	}
	return names
}

func (e *errs) configMapSource(s *api.ConfigMapVolumeSource, p path) {
	if s.GetName() == "" {
		e.required(p.child("name"), "")
	}
	e.mode(p.child("defaultMode"), s.DefaultMode)
	e.keyToPaths(s.GetItems(), p.child("items"))
}

func (e *errs) secretSource(s *api.SecretVolumeSource, p path) {
	if s.GetSecretName() == "" {
		e.required(p.child("secretName"), "")
	}
	e.mode(p.child("defaultMode"), s.DefaultMode)
	e.keyToPaths(s.GetItems(), p.child("items"))
}

func (e *errs) downwardAPI(s *api.DownwardAPIVolumeSource, p path) {
	e.mode(p.child("defaultMode"), s.DefaultMode)
	for i, it := range s.GetItems() {
		ip := p.child("items").index(i)
		e.relativePath(ip.child("path"), it.GetPath())
		e.mode(ip.child("mode"), it.Mode)
		n := 0
		if it.GetFieldRef() != nil {
			n++
			e.fieldRef(it.GetFieldRef(), ip.child("fieldRef"))
		}
		if it.GetResourceFieldRef() != nil {
			n++
			e.resourceFieldRef(it.GetResourceFieldRef(), ip.child("resourceFieldRef"), false)
		}
		if n != 1 {
			e.invalid(ip, n, "exactly one of fieldRef or resourceFieldRef must be set")
		}
	}
}

func (e *errs) keyToPaths(items []*api.KeyToPath, p path) {
	for i, it := range items {
		ip := p.index(i)
		if !IsConfigKey(it.GetKey()) {
			e.invalid(ip.child("key"), it.GetKey(), "must be a valid config key (alphanumerics, '-', '_' or '.')")
		}
		e.relativePath(ip.child("path"), it.GetPath())
		e.mode(ip.child("mode"), it.Mode)
	}
}

func (e *errs) mode(p path, m *int32) {
	if m != nil && (*m < 0 || *m > 0o777) {
		e.invalid(p, *m, "must be a number between 0 and 0777 (octal), both inclusive")
	}
}

// relativePath checks a path inside a volume: relative, no "..".
func (e *errs) relativePath(p path, s string) {
	switch {
	case s == "":
		e.required(p, "")
	case strings.HasPrefix(s, "/"):
		e.invalid(p, s, "must be a relative path")
	default:
		for _, part := range strings.Split(s, "/") {
			if part == ".." {
				e.invalid(p, s, "must not contain '..'")
				return
			}
		}
	}
}

var fieldRefPaths = []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
	"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.podIP", "status.podIPs"}

func (e *errs) fieldRef(f *api.ObjectFieldSelector, p path) {
	fp := f.GetFieldPath()
	if fp == "" {
		e.required(p.child("fieldPath"), "")
		return
	}
	base := fp
	if i := strings.Index(fp, "['"); i >= 0 && strings.HasSuffix(fp, "']") {
		base = fp[:i]
		if base != "metadata.labels" && base != "metadata.annotations" {
			e.add(TypeNotSupported, p.child("fieldPath"), fp, "supported values: %s", quoteAll(fieldRefPaths))
			return
		}
		return
	}
	e.oneOf(p.child("fieldPath"), base, false, fieldRefPaths...)
}

var resourceRefs = []string{"limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage"}

func (e *errs) resourceFieldRef(r *api.ResourceFieldSelector, p path, inContainer bool) {
	if !inContainer && r.GetContainerName() == "" {
		e.required(p.child("containerName"), "")
	}
	e.oneOf(p.child("resource"), r.GetResource(), false, resourceRefs...)
	if d := r.GetDivisor(); d != "" {
		l := e.quantities(p, map[string]string{"divisor": d}, false)
		if q, ok := l["divisor"]; ok && q.IsZero() {
			e.invalid(p.child("divisor"), d, "must be greater than 0")
		}
	}
}

// container checks one container. names and portNames are shared across the
// pod, so duplicates are caught between containers too.
func (e *errs) container(c *api.Container, p path, volumes, names, portNames map[string]bool, init bool) {
	switch n := c.GetName(); {
	case n == "":
		e.required(p.child("name"), "")
	case names[n]:
		e.duplicate(p.child("name"), n)
	default:
		e.dnsLabel(p.child("name"), n)
	}
	names[c.GetName()] = true
	if strings.TrimSpace(c.GetImage()) == "" {
		e.required(p.child("image"), "")
	}
	e.oneOf(p.child("imagePullPolicy"), c.GetImagePullPolicy(), true, pullPolicies...)
	hostPorts := map[string]bool{}
	for i, port := range c.GetPorts() {
		pp := p.child("ports").index(i)
		if n := port.GetName(); n != "" {
			if !IsPortName(n) {
				e.invalid(pp.child("name"), n, "must be an IANA service name: at most 15 characters of a-z, 0-9 and '-', with at least one letter")
			} else if portNames[n] {
				e.duplicate(pp.child("name"), n)
			}
			portNames[n] = true
		}
		e.port(pp.child("containerPort"), port.GetContainerPort())
		if hp := port.GetHostPort(); hp != 0 {
			e.port(pp.child("hostPort"), hp)
			key := port.GetProtocol() + "/" + strconv.Itoa(int(hp))
			if hostPorts[key] {
				e.duplicate(pp.child("hostPort"), hp)
			}
			hostPorts[key] = true
		}
		e.oneOf(pp.child("protocol"), port.GetProtocol(), true, protocols...)
		if ip := port.GetHostIp(); ip != "" {
			e.ip(pp.child("hostIP"), ip)
		}
	}
	for i, env := range c.GetEnv() {
		ep := p.child("env").index(i)
		if !IsEnvVarName(env.GetName()) {
			if env.GetName() == "" {
				e.required(ep.child("name"), "")
			} else {
				e.invalid(ep.child("name"), env.GetName(), "must be printable ASCII characters other than '='")
			}
		}
		if vf := env.GetValueFrom(); vf != nil {
			vp := ep.child("valueFrom")
			if env.GetValue() != "" {
				e.forbidden(vp, "may not be specified when value is not empty")
			}
			n := 0
			if vf.GetFieldRef() != nil {
				n++
				e.fieldRef(vf.GetFieldRef(), vp.child("fieldRef"))
			}
			if vf.GetResourceFieldRef() != nil {
				n++
				e.resourceFieldRef(vf.GetResourceFieldRef(), vp.child("resourceFieldRef"), true)
			}
			if r := vf.GetConfigMapKeyRef(); r != nil {
				n++
				e.keyRef(r.GetName(), r.GetKey(), vp.child("configMapKeyRef"))
			}
			if r := vf.GetSecretKeyRef(); r != nil {
				n++
				e.keyRef(r.GetName(), r.GetKey(), vp.child("secretKeyRef"))
			}
			if n != 1 {
				e.invalid(vp, n, "exactly one of fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef must be set")
			}
		}
	}
	for i, ef := range c.GetEnvFrom() {
		fp := p.child("envFrom").index(i)
		n := 0
		if r := ef.GetConfigMapRef(); r != nil {
			n++
			if r.GetName() == "" {
				e.required(fp.child("configMapRef", "name"), "")
			}
		}
		if r := ef.GetSecretRef(); r != nil {
			n++
			if r.GetName() == "" {
				e.required(fp.child("secretRef", "name"), "")
			}
		}
		if n != 1 {
			e.invalid(fp, n, "exactly one of configMapRef or secretRef must be set")
		}
		if pre := ef.GetPrefix(); pre != "" && !IsEnvVarName(pre) {
			e.invalid(fp.child("prefix"), pre, "must be printable ASCII characters other than '='")
		}
	}
	e.resources(c.GetResources(), p.child("resources"))
	mounts := map[string]bool{}
	for i, m := range c.GetVolumeMounts() {
		mp := p.child("volumeMounts").index(i)
		switch {
		case m.GetName() == "":
			e.required(mp.child("name"), "")
		case !volumes[m.GetName()]:
			e.add(TypeNotSupported, mp.child("name"), m.GetName(), "must match the name of a volume")
		}
		switch mpath := m.GetMountPath(); {
		case mpath == "":
			e.required(mp.child("mountPath"), "")
		case mounts[mpath]:
			e.duplicate(mp.child("mountPath"), mpath)
		}
		mounts[m.GetMountPath()] = true
		if sp := m.GetSubPath(); sp != "" {
			if strings.HasPrefix(sp, "/") || strings.Contains("/"+sp+"/", "/../") {
				e.invalid(mp.child("subPath"), sp, "must be a relative path without '..'")
			}
		}
	}
	e.probe(c.GetLivenessProbe(), p.child("livenessProbe"), true)
	e.probe(c.GetReadinessProbe(), p.child("readinessProbe"), false)
	e.probe(c.GetStartupProbe(), p.child("startupProbe"), true)
	if init {
		for _, name := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
			var set bool
			switch name {
			case "livenessProbe":
				set = c.GetLivenessProbe() != nil
			case "readinessProbe":
				set = c.GetReadinessProbe() != nil
			default:
				set = c.GetStartupProbe() != nil
			}
			if set {
				e.forbidden(p.child(name), "may not be set for init containers")
			}
		}
	}
	if lc := c.GetLifecycle(); lc != nil {
		e.handler(lc.GetPostStart(), p.child("lifecycle", "postStart"))
		e.handler(lc.GetPreStop(), p.child("lifecycle", "preStop"))
	}
	if sc := c.GetSecurityContext(); sc != nil {
		sp := p.child("securityContext")
		if sc.RunAsUser != nil {
			e.nonNegative(sp.child("runAsUser"), sc.GetRunAsUser())
		}
		if sc.RunAsGroup != nil {
			e.nonNegative(sp.child("runAsGroup"), sc.GetRunAsGroup())
		}
		if sc.GetPrivileged() && sc.AllowPrivilegeEscalation != nil && !sc.GetAllowPrivilegeEscalation() {
			e.invalid(sp.child("allowPrivilegeEscalation"), false, "cannot be false when privileged is true")
		}
	}
}

func (e *errs) keyRef(name, key string, p path) {
	if name == "" {
		e.required(p.child("name"), "")
	}
	if key == "" {
		e.required(p.child("key"), "")
	} else if !IsConfigKey(key) {
		e.invalid(p.child("key"), key, "must be a valid config key (alphanumerics, '-', '_' or '.')")
	}
}

// resources checks requests and limits: valid names and quantities, and no
// request above its limit.
func (e *errs) resources(r *api.ResourceRequirements, p path) {
	if r == nil {
		return
	}
	limits := e.quantities(p.child("limits"), r.GetLimits(), false)
	requests := e.quantities(p.child("requests"), r.GetRequests(), false)
	for _, name := range requests.Names() {
		if l, ok := limits[name]; ok && requests[name].Cmp(l) > 0 {
			e.invalid(p.child("requests").key(name), requests[name].String(), "must be less than or equal to %s limit of %s", name, l.String())
		}
	}
}

// handler checks a probe or lifecycle handler: exactly one action.
func (e *errs) handler(h *api.LifecycleHandler, p path) {
	if h == nil {
		return
	}
	e.actions(h.GetExec(), h.GetHttpGet(), h.GetTcpSocket(), p)
}

func (e *errs) actions(ex *api.ExecAction, hg *api.HTTPGetAction, ts *api.TCPSocketAction, p path) {
	var set []string
	if ex != nil {
		set = append(set, "exec")
		if len(ex.GetCommand()) == 0 {
			e.required(p.child("exec", "command"), "")
		}
	}
	if hg != nil {
		set = append(set, "httpGet")
		hp := p.child("httpGet")
		e.portRef(hp.child("port"), hg.GetPort(), true)
		e.oneOf(hp.child("scheme"), hg.GetScheme(), true, "HTTP", "HTTPS")
		if pa := hg.GetPath(); pa != "" && !strings.HasPrefix(pa, "/") {
			e.invalid(hp.child("path"), pa, "must start with '/'")
		}
		for i, h := range hg.GetHttpHeaders() {
			if h.GetName() == "" {
				e.required(hp.child("httpHeaders").index(i).child("name"), "")
			}
		}
	}
	if ts != nil {
		set = append(set, "tcpSocket")
		e.portRef(p.child("tcpSocket", "port"), ts.GetPort(), true)
	}
	switch len(set) {
	case 0:
		e.required(p, "must specify a handler type (exec, httpGet or tcpSocket)")
	case 1:
	default:
		e.forbidden(p.child(set[1]), "may not specify more than one handler type (%s)", strings.Join(set, ", "))
	}
}

func (e *errs) probe(pr *api.Probe, p path, successMustBeOne bool) {
	if pr == nil {
		return
	}
	e.actions(pr.GetExec(), pr.GetHttpGet(), pr.GetTcpSocket(), p)
	e.nonNegative(p.child("initialDelaySeconds"), int64(pr.GetInitialDelaySeconds()))
	e.nonNegative(p.child("timeoutSeconds"), int64(pr.GetTimeoutSeconds()))
	e.nonNegative(p.child("periodSeconds"), int64(pr.GetPeriodSeconds()))
	e.nonNegative(p.child("successThreshold"), int64(pr.GetSuccessThreshold()))
	e.nonNegative(p.child("failureThreshold"), int64(pr.GetFailureThreshold()))
	if successMustBeOne && pr.GetSuccessThreshold() > 1 {
		e.invalid(p.child("successThreshold"), pr.GetSuccessThreshold(), "must be 1")
	}
	if v := pr.GetTerminationGracePeriodSeconds(); v != 0 {
		e.positive(p.child("terminationGracePeriodSeconds"), v)
	}
}

func (e *errs) toleration(t *api.Toleration, p path) {
	if k := t.GetKey(); k != "" {
		e.qualifiedName(p.child("key"), k)
	}
	switch t.GetOperator() {
	case "", "Equal":
		if t.GetKey() == "" {
			e.invalid(p.child("operator"), t.GetOperator(), "operator must be Exists when key is empty")
		}
		if err := labelValueError(t.GetValue()); err != "" {
			e.invalid(p.child("value"), t.GetValue(), "%s", err)
		}
	case "Exists":
		if t.GetValue() != "" {
			e.invalid(p.child("value"), t.GetValue(), "must be empty when operator is Exists")
		}
	default:
		e.add(TypeNotSupported, p.child("operator"), t.GetOperator(), "supported values: %s", quoteAll([]string{"Equal", "Exists"}))
	}
	e.oneOf(p.child("effect"), t.GetEffect(), true, taintEffects...)
	if t.TolerationSeconds != nil && t.GetEffect() != "NoExecute" {
		e.invalid(p.child("effect"), t.GetEffect(), "must be NoExecute when tolerationSeconds is set")
	}
}

func (e *errs) affinity(a *api.Affinity, p path) {
	if a == nil {
		return
	}
	if na := a.GetNodeAffinity(); na != nil {
		np := p.child("nodeAffinity")
		if r := na.GetRequiredDuringSchedulingIgnoredDuringExecution(); r != nil {
			e.nodeSelector(r, np.child("requiredDuringSchedulingIgnoredDuringExecution"))
		}
		for i, t := range na.GetPreferredDuringSchedulingIgnoredDuringExecution() {
			tp := np.child("preferredDuringSchedulingIgnoredDuringExecution").index(i)
			e.weight(tp.child("weight"), t.GetWeight())
			e.nodeSelectorTerm(t.GetPreference(), tp.child("preference"))
		}
	}
	podTerms := func(req []*api.PodAffinityTerm, pref []*api.WeightedPodAffinityTerm, pp path) {
		for i, t := range req {
			e.podAffinityTerm(t, pp.child("requiredDuringSchedulingIgnoredDuringExecution").index(i))
		}
		for i, t := range pref {
			tp := pp.child("preferredDuringSchedulingIgnoredDuringExecution").index(i)
			e.weight(tp.child("weight"), t.GetWeight())
			if t.GetPodAffinityTerm() == nil {
				e.required(tp.child("podAffinityTerm"), "")
				continue
			}
			e.podAffinityTerm(t.GetPodAffinityTerm(), tp.child("podAffinityTerm"))
		}
	}
	if pa := a.GetPodAffinity(); pa != nil {
		podTerms(pa.GetRequiredDuringSchedulingIgnoredDuringExecution(), pa.GetPreferredDuringSchedulingIgnoredDuringExecution(), p.child("podAffinity"))
	}
	if pa := a.GetPodAntiAffinity(); pa != nil {
		podTerms(pa.GetRequiredDuringSchedulingIgnoredDuringExecution(), pa.GetPreferredDuringSchedulingIgnoredDuringExecution(), p.child("podAntiAffinity"))
	}
}

func (e *errs) weight(p path, w int32) {
	if w < 1 || w > 100 {
		e.invalid(p, w, "must be in the range 1-100")
	}
}

func (e *errs) podAffinityTerm(t *api.PodAffinityTerm, p path) {
	if t.GetTopologyKey() == "" {
		e.required(p.child("topologyKey"), "")
	} else {
		e.qualifiedName(p.child("topologyKey"), t.GetTopologyKey())
	}
	e.labelSelector(t.GetLabelSelector(), p.child("labelSelector"))
	e.labelSelector(t.GetNamespaceSelector(), p.child("namespaceSelector"))
	for i, ns := range t.GetNamespaces() {
		e.dnsLabel(p.child("namespaces").index(i), ns)
	}
}

func (e *errs) nodeSelector(s *api.NodeSelector, p path) {
	if len(s.GetNodeSelectorTerms()) == 0 {
		e.required(p.child("nodeSelectorTerms"), "must have at least one node selector term")
	}
	for i, t := range s.GetNodeSelectorTerms() {
		e.nodeSelectorTerm(t, p.child("nodeSelectorTerms").index(i))
	}
}

func (e *errs) nodeSelectorTerm(t *api.NodeSelectorTerm, p path) {
	if t == nil {
		e.required(p, "")
		return
	}
	reqs := func(rs []*api.NodeSelectorRequirement, rp path, fields bool) {
		for i, r := range rs {
			ip := rp.index(i)
			if fields {
				e.oneOf(ip.child("key"), r.GetKey(), false, "metadata.name")
			} else {
				e.qualifiedName(ip.child("key"), r.GetKey())
			}
			e.oneOf(ip.child("operator"), r.GetOperator(), false, nodeSelectorOps...)
			switch r.GetOperator() {
			case "In", "NotIn":
				if len(r.GetValues()) == 0 {
					e.required(ip.child("values"), "must be specified when operator is In or NotIn")
				}
			case "Exists", "DoesNotExist":
				if len(r.GetValues()) > 0 {
					e.forbidden(ip.child("values"), "may not be specified when operator is Exists or DoesNotExist")
				}
			case "Gt", "Lt":
				if len(r.GetValues()) != 1 {
					e.required(ip.child("values"), "must be a single integer when operator is Gt or Lt")
				} else if _, err := parseInt64(r.GetValues()[0]); err != nil {
					e.invalid(ip.child("values").index(0), r.GetValues()[0], "must be an integer")
				}
			}
		}
	}
	reqs(t.GetMatchExpressions(), p.child("matchExpressions"), false)
	reqs(t.GetMatchFields(), p.child("matchFields"), true)
}
