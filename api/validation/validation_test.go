package validation_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/validation"
)

func intOrStr(s string) *api.IntOrString {
	return &api.IntOrString{Value: &api.IntOrString_StrVal{StrVal: s}}
}

func intOrInt(v int32) *api.IntOrString {
	return &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: v}}
}

func podSpec() *api.PodSpec {
	return &api.PodSpec{
		Containers: []*api.Container{{
			Name:  "web",
			Image: "nginx:1.25",
			Ports: []*api.ContainerPort{{Name: "http", ContainerPort: 80}},
			Resources: &api.ResourceRequirements{
				Requests: map[string]string{"cpu": "100m", "memory": "64Mi"},
				Limits:   map[string]string{"cpu": "1", "memory": "128Mi"},
			},
			ReadinessProbe: &api.Probe{HttpGet: &api.HTTPGetAction{Path: "/", Port: intOrStr("http")}},
			VolumeMounts:   []*api.VolumeMount{{Name: "cache", MountPath: "/cache"}},
		}},
		Volumes: []*api.Volume{{Name: "cache", EmptyDir: &api.EmptyDirVolumeSource{}}},
	}
}

func deployment() *api.Deployment {
	return &api.Deployment{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "shop", Labels: map[string]string{"app": "web"}},
		Spec: &api.DeploymentSpec{
			Replicas: proto.Int32(3),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
				Spec:     podSpec(),
			},
		},
	}
}

func TestValidateObject(t *testing.T) {
	tests := []struct {
		name string
		obj  func() api.Object
		want []string // every error line, in order; none for a valid object
	}{
		{"valid deployment", func() api.Object { return deployment() }, nil},
		{"valid pod", func() api.Object {
			return &api.Pod{Metadata: &api.ObjectMeta{Name: "p"}, Spec: podSpec()}
		}, nil},
		{"deployment errors at once", func() api.Object {
			d := deployment()
			d.Metadata.Name = "Web_1"
			d.Spec.Replicas = proto.Int32(-1)
			c := d.Spec.Template.Spec.Containers[0]
			c.Image = ""
			d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, &api.Container{Name: "web", Image: "x", Ports: []*api.ContainerPort{{Name: "http", ContainerPort: 8080}}})
			d.Spec.Template.Metadata.Labels["app"] = "other"
			return d
		}, []string{
			`metadata.name: invalid value "Web_1": must be a lower-case RFC 1123 subdomain: labels of a-z, 0-9 and '-' separated by '.', at most 253 characters`,
			`spec.replicas: invalid value "-1": must be greater than or equal to 0`,
			`spec.template.metadata.labels: invalid value "app=other,tier=front": selector does not match template labels`,
			`spec.template.spec.containers[0].image: required value`,
			`spec.template.spec.containers[1].name: duplicate value "web"`,
			`spec.template.spec.containers[1].ports[0].name: duplicate value "http"`,
		}},
		{"selector required", func() api.Object {
			d := deployment()
			d.Spec.Selector = nil
			return d
		}, []string{`spec.selector: required value`}},
		{"bad quantities and request over limit", func() api.Object {
			p := &api.Pod{Metadata: &api.ObjectMeta{Name: "p"}, Spec: podSpec()}
			r := p.Spec.Containers[0].Resources
			r.Requests["cpu"] = "2"
			r.Limits["memory"] = "lots"
			return p
		}, []string{
			`spec.containers[0].resources.limits[memory]: invalid value "lots": must be a quantity such as 500m, 1.5, 128Mi or 1G`,
			`spec.containers[0].resources.requests[cpu]: invalid value "2": must be less than or equal to cpu limit of 1`,
		}},
		{"probe with two handlers, volume with none", func() api.Object {
			p := &api.Pod{Metadata: &api.ObjectMeta{Name: "p"}, Spec: podSpec()}
			p.Spec.Containers[0].ReadinessProbe.TcpSocket = &api.TCPSocketAction{Port: intOrInt(80)}
			p.Spec.Volumes = append(p.Spec.Volumes, &api.Volume{Name: "data"})
			p.Spec.Containers[0].VolumeMounts[0].Name = "missing"
			return p
		}, []string{
			`spec.volumes[1]: required value: must specify a volume source (emptyDir, hostPath, configMap, secret, downwardAPI, persistentVolumeClaim, projected or flexVolume)`,
			`spec.containers[0].volumeMounts[0].name: unsupported value "missing": must match the name of a volume`,
			`spec.containers[0].readinessProbe.tcpSocket: forbidden: may not specify more than one handler type (httpGet, tcpSocket)`,
		}},
		{"labels", func() api.Object {
			return &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "c", Labels: map[string]string{"-bad": "ok", "good": "not ok!"}}}
		}, []string{
			`metadata.labels: invalid value "-bad": must start and end with an alphanumeric character`,
			`metadata.labels[good]: invalid value "not ok!": must start and end with an alphanumeric character`,
		}},
		{"cluster-scoped namespace", func() api.Object {
			return &api.Namespace{Metadata: &api.ObjectMeta{Name: "shop", Namespace: "x"}}
		}, []string{`metadata.namespace: forbidden: not allowed on a cluster-scoped kind`}},
		{"name required", func() api.Object { return &api.Namespace{} }, []string{`metadata.name: required value: name or generateName is required`}},
		{"cron schedule", func() api.Object {
			return &api.CronJob{Metadata: &api.ObjectMeta{Name: "c"}, Spec: &api.CronJobSpec{
				Schedule:          "61 * * * *",
				ConcurrencyPolicy: "Sometimes",
				JobTemplate: &api.JobTemplateSpec{Spec: &api.JobSpec{
					BackoffLimit: proto.Int32(-1),
					Template:     &api.PodTemplateSpec{Spec: &api.PodSpec{RestartPolicy: "Always", Containers: []*api.Container{{Name: "c", Image: "busybox"}}}},
				}},
			}}
		}, []string{
			`spec.schedule: invalid value "61 * * * *": end of range (61) above maximum (59): 61`,
			`spec.concurrencyPolicy: unsupported value "Sometimes": supported values: "Allow", "Forbid", "Replace"`,
			`spec.jobTemplate.spec.backoffLimit: invalid value "-1": must be greater than or equal to 0`,
			`spec.jobTemplate.spec.template.spec.restartPolicy: unsupported value "Always": supported values: "OnFailure", "Never"`,
		}},
		{"service", func() api.Object {
			return &api.Service{Metadata: &api.ObjectMeta{Name: "web"}, Spec: &api.ServiceSpec{
				Type: "NodePort",
				Ports: []*api.ServicePort{
					{Name: "http", Port: 80, TargetPort: intOrStr("http"), NodePort: 30080},
					{Name: "http", Port: 70000, Protocol: "HTTP"},
					{Port: 443, TargetPort: intOrStr("not_a_name")},
				},
			}}
		}, []string{
			`spec.ports[1].name: duplicate value "http"`,
			`spec.ports[1].port: invalid value "70000": must be between 1 and 65535, inclusive`,
			`spec.ports[1].protocol: unsupported value "HTTP": supported values: "TCP", "UDP", "SCTP"`,
			`spec.ports[2].name: required value: when there is more than one port`,
			`spec.ports[2].targetPort: invalid value "not_a_name": must be a port number or an IANA service name (at most 15 characters of a-z, 0-9 and '-', with a letter)`,
		}},
		{"rolling update", func() api.Object {
			d := deployment()
			d.Spec.Strategy = &api.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &api.RollingUpdateDeployment{MaxSurge: intOrInt(0), MaxUnavailable: intOrStr("0%")}}
			return d
		}, []string{`spec.strategy.rollingUpdate.maxUnavailable: invalid value "0": may not be 0 when maxSurge is 0`}},
		{"percent over 100", func() api.Object {
			return &api.PodDisruptionBudget{Metadata: &api.ObjectMeta{Name: "p"}, Spec: &api.PodDisruptionBudgetSpec{MinAvailable: intOrStr("150%")}}
		}, []string{`spec.minAvailable: invalid value "150%": must not be greater than 100%`}},
		{"hpa bounds", func() api.Object {
			return &api.HorizontalPodAutoscaler{Metadata: &api.ObjectMeta{Name: "h"}, Spec: &api.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: &api.CrossVersionObjectReference{Kind: "Deployment", Name: "web"},
				MinReplicas:    proto.Int32(5), MaxReplicas: 2,
			}}
		}, []string{`spec.maxReplicas: invalid value "2": must be greater than or equal to minReplicas`}},
		{"secret keys and tls", func() api.Object {
			return &api.Secret{Metadata: &api.ObjectMeta{Name: "s"}, Type: "kubernetes.io/tls", Data: map[string][]byte{"tls.crt": nil, "bad key": nil}}
		}, []string{
			`data: invalid value "bad key": a data key must consist of alphanumeric characters, '-', '_' or '.'`,
			`data[tls.key]: required value: for type kubernetes.io/tls`,
		}},
		{"ingress", func() api.Object {
			return &api.Ingress{Metadata: &api.ObjectMeta{Name: "i"}, Spec: &api.IngressSpec{Rules: []*api.IngressRule{{
				Host: "Shop.Example.com",
				Http: &api.HTTPIngressRuleValue{Paths: []*api.HTTPIngressPath{{Path: "api", PathType: "Prefix", Backend: &api.IngressBackend{Service: &api.IngressServiceBackend{Name: "web"}}}}},
			}}}}
		}, []string{
			`spec.rules[0].host: invalid value "Shop.Example.com": must be a lower-case RFC 1123 subdomain: labels of a-z, 0-9 and '-' separated by '.', at most 253 characters`,
			`spec.rules[0].http.paths[0].path: invalid value "api": must be an absolute path`,
			`spec.rules[0].http.paths[0].backend.service.port: required value: port name or number is required`,
		}},
		{"pvc", func() api.Object {
			return &api.PersistentVolumeClaim{Metadata: &api.ObjectMeta{Name: "c"}, Spec: &api.PersistentVolumeClaimSpec{AccessModes: []string{"ReadWriteSometimes"}}}
		}, []string{
			`spec.accessModes[0]: unsupported value "ReadWriteSometimes": supported values: "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"`,
			`spec.resources.requests[storage]: required value`,
		}},
		{"role binding", func() api.Object {
			return &api.ClusterRoleBinding{Metadata: &api.ObjectMeta{Name: "b"}, RoleRef: &api.RoleRef{Kind: "Role", Name: "r", ApiGroup: "rbac.authorization.k8s.io"},
				Subjects: []*api.Subject{{Kind: "ServiceAccount", Name: "sa"}}}
		}, []string{
			`roleRef.kind: unsupported value "Role": supported values: "ClusterRole"`,
			`subjects[0].namespace: required value: for a ServiceAccount subject`,
		}},
		{"node taints", func() api.Object {
			return &api.Node{Metadata: &api.ObjectMeta{Name: "n1"}, Spec: &api.NodeSpec{PodCidr: "10.0.0.0/33", Taints: []*api.Taint{{Key: "gpu", Effect: "Sometimes"}}},
				Status: &api.NodeStatus{Capacity: map[string]string{"cpu": "-1"}}}
		}, []string{
			`spec.podCIDR: invalid value "10.0.0.0/33": must be a valid CIDR`,
			`spec.taints[0].effect: unsupported value "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`,
			`status.capacity[cpu]: invalid value "-1": must be greater than or equal to 0`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validation.ValidateObject(tt.obj())
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if err == nil {
				return
			}
			if !errors.Is(err, validation.ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
			}
			var list validation.ErrorList
			if !errors.As(err, &list) || len(list) != len(tt.want) {
				t.Errorf("errors.As ErrorList = %v", list)
			}
			var fe *validation.FieldError
			if !errors.As(err, &fe) || fe.Path == "" {
				t.Errorf("errors.As FieldError = %v", fe)
			}
		})
	}
}

func TestValidateSchedule(t *testing.T) {
	for _, s := range []string{"*/5 * * * *", "0 3 * * 1-5", "@hourly", "@every 1h", "30 2 1 jan *"} {
		if err := validation.ValidateSchedule(s); err != nil {
			t.Errorf("ValidateSchedule(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "* * * *", "* * * * * *", "TZ=UTC * * * * *", "61 * * * *", "@sometimes"} {
		if err := validation.ValidateSchedule(s); err == nil {
			t.Errorf("ValidateSchedule(%q) accepted", s)
		}
	}
}

func TestRegisterCustomRules(t *testing.T) {
	// Lease stands in for nothing here: built-in kinds are refused.
	if err := validation.Register(&api.Lease{}, func(api.Object) validation.ErrorList { return nil }); err == nil {
		t.Fatal("Register accepted a built-in kind")
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		fn   func(string) bool
		name string
		ok   []string
		bad  []string
	}{
		{validation.IsDNS1123Label, "label", []string{"a", "web-1", strings.Repeat("a", 63)}, []string{"", "-a", "a-", "A", "a.b", strings.Repeat("a", 64)}},
		{validation.IsDNS1123Subdomain, "subdomain", []string{"a", "a.b-c.d", "shop"}, []string{"", "a..b", ".a", "A.b", strings.Repeat("a.", 127) + "a"}},
		{validation.IsPortName, "port", []string{"http", "h2c", "web-api"}, []string{"", "80", "-http", "http-", "a--b", "HTTP", "averyveryverylongname"}},
		{validation.IsConfigKey, "config key", []string{"a", "config.yaml", "A_B-c"}, []string{"", ".", "..", "a/b", "a b"}},
		{validation.IsEnvVarName, "env", []string{"A", "my.var-1"}, []string{"", "A=B", "a\nb"}},
	}
	for _, tt := range tests {
		for _, s := range tt.ok {
			if !tt.fn(s) {
				t.Errorf("%s %q rejected", tt.name, s)
			}
		}
		for _, s := range tt.bad {
			if tt.fn(s) {
				t.Errorf("%s %q accepted", tt.name, s)
			}
		}
	}
}

func TestConfigMapKeyInBothMaps(t *testing.T) {
	cm := &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "c"}, Data: map[string]string{"a": "x"}, BinaryData: map[string][]byte{"a": {1}}}
	err := validation.ValidateObject(cm)
	if err == nil || err.Error() != `binaryData[a]: duplicate value "a": key also present in data` {
		t.Fatalf("error = %v", err)
	}
}
