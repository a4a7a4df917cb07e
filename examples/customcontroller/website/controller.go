package website

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/builder"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
)

// Kind is the Website kind's name; APIVersion its group and version.
const (
	Kind       = "Website"
	APIVersion = "example.coxswain.io/v1"
)

// DefaultImage is the web server image when spec.image is empty.
const DefaultImage = "busybox:latest"

// Info describes the Website kind for a registry.
func Info() api.KindInfo {
	return api.KindInfo{
		APIVersion: APIVersion, Kind: Kind, Resource: "websites", Scope: api.Namespaced,
		New: func() api.Object { return &Website{} },
	}
}

// Register adds the Website kind to reg.
func Register(reg *api.Registry) error { return reg.Register(Info()) }

// Registry returns the built-in kinds plus Website.
func Registry() *api.Registry {
	reg := api.NewBuiltinRegistry()
	reg.MustRegister(Info())
	return reg
}

// Add registers the Website controller with mgr. The manager's store must
// serve the Website kind.
func Add(mgr *manager.Manager) error {
	return builder.ControllerManagedBy(mgr).
		Named("website").
		For(Kind).
		Owns(api.KindDeployment).
		Owns(api.KindService).
		Complete(&Reconciler{Store: mgr.Store()})
}

// Reconciler makes a Website's Deployment and Service match its spec and
// writes their state to its status.
type Reconciler struct {
	Store store.Store
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// Reconcile handles one Website.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	site, err := store.For[*Website](r.Store).Get(ctx, req.Namespace, req.Name)
	if store.IsNotFound(err) {
		return reconcile.Result{}, nil // its Deployment and Service go with it (owner references)
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	if site.GetMetadata().GetDeletionTimestamp() != nil {
		return reconcile.Result{}, nil
	}
	dep, err := r.ensureDeployment(ctx, site)
	if err != nil {
		return reconcile.Result{}, err
	}
	svc, err := r.ensureService(ctx, site)
	if err != nil {
		return reconcile.Result{}, err
	}
	want := &WebsiteStatus{
		ReadyReplicas:      dep.GetStatus().GetReadyReplicas(),
		ClusterIp:          svc.GetSpec().GetClusterIp(),
		ObservedGeneration: site.GetMetadata().GetGeneration(),
	}
	if proto.Equal(want, site.GetStatus()) {
		return reconcile.Result{}, nil
	}
	_, err = store.For[*Website](r.Store).MutateStatus(ctx, req.Namespace, req.Name, func(w *Website) error {
		w.Status = want
		return nil
	})
	return reconcile.Result{}, err
}

// labels select a Website's pods.
func labels(site *Website) map[string]string {
	return map[string]string{"app.kubernetes.io/name": "website", "app.kubernetes.io/instance": site.GetMetadata().GetName()}
}

// ownerRef makes site the controller of an object.
func ownerRef(site *Website) *api.OwnerReference {
	return &api.OwnerReference{ApiVersion: APIVersion, Kind: Kind, Name: site.GetMetadata().GetName(),
		Uid: site.GetMetadata().GetUid(), Controller: true, BlockOwnerDeletion: true}
}

// ownedBy reports whether site controls obj.
func ownedBy(obj api.Object, site *Website) bool {
	for _, o := range obj.GetMetadata().GetOwnerReferences() {
		if o.GetController() && o.GetUid() == site.GetMetadata().GetUid() {
			return true
		}
	}
	return false
}

// errNotOwned is returned when an object of the Website's name exists but
// belongs to something else: the reconcile stops without retrying.
var errNotOwned = errors.New("exists and is not owned by the Website")

// podSpec is the web server pod of site.
func podSpec(site *Website) *api.PodSpec {
	image := site.GetSpec().GetImage()
	if image == "" {
		image = DefaultImage
	}
	msg := strings.ReplaceAll(site.GetSpec().GetMessage(), "'", "")
	return &api.PodSpec{Containers: []*api.Container{{
		Name:    "web",
		Image:   image,
		Command: []string{"sh", "-c", "mkdir -p /www && echo '" + msg + "' > /www/index.html && exec httpd -f -p 8080 -h /www"},
		Ports:   []*api.ContainerPort{{ContainerPort: 8080, Protocol: "TCP"}},
	}}}
}

func (r *Reconciler) ensureDeployment(ctx context.Context, site *Website) (*api.Deployment, error) {
	md := site.GetMetadata()
	replicas := site.GetSpec().GetReplicas()
	if replicas == 0 {
		replicas = 1
	}
	deps := store.For[*api.Deployment](r.Store)
	cur, err := deps.Get(ctx, md.GetNamespace(), md.GetName())
	if store.IsNotFound(err) {
		return deps.Create(ctx, &api.Deployment{
			Metadata: &api.ObjectMeta{Name: md.GetName(), Namespace: md.GetNamespace(), Labels: labels(site),
				OwnerReferences: []*api.OwnerReference{ownerRef(site)}},
			Spec: &api.DeploymentSpec{
				Replicas: proto.Int32(replicas),
				Selector: &api.LabelSelector{MatchLabels: labels(site)},
				Template: &api.PodTemplateSpec{Metadata: &api.ObjectMeta{Labels: labels(site)}, Spec: podSpec(site)},
			},
		})
	}
	if err != nil {
		return nil, err
	}
	if !ownedBy(cur, site) {
		return nil, reconcile.Terminal(fmt.Errorf("deployment %s/%s %w", md.GetNamespace(), md.GetName(), errNotOwned))
	}
	want := podSpec(site)
	c := cur.GetSpec().GetTemplate().GetSpec().GetContainers()
	if cur.GetSpec().GetReplicas() == replicas && len(c) == 1 &&
		c[0].GetImage() == want.Containers[0].Image && strings.Join(c[0].GetCommand(), " ") == strings.Join(want.Containers[0].Command, " ") {
		return cur, nil
	}
	return deps.Mutate(ctx, md.GetNamespace(), md.GetName(), func(d *api.Deployment) error {
		d.Spec.Replicas = proto.Int32(replicas)
		ctr := d.Spec.Template.Spec.Containers[0]
		ctr.Image, ctr.Command = want.Containers[0].Image, want.Containers[0].Command
		d.Spec.Template.Spec.Containers = d.Spec.Template.Spec.Containers[:1]
		return nil
	})
}

func (r *Reconciler) ensureService(ctx context.Context, site *Website) (*api.Service, error) {
	md := site.GetMetadata()
	svcs := store.For[*api.Service](r.Store)
	cur, err := svcs.Get(ctx, md.GetNamespace(), md.GetName())
	if store.IsNotFound(err) {
		return svcs.Create(ctx, &api.Service{
			Metadata: &api.ObjectMeta{Name: md.GetName(), Namespace: md.GetNamespace(), Labels: labels(site),
				OwnerReferences: []*api.OwnerReference{ownerRef(site)}},
			Spec: &api.ServiceSpec{
				Selector: labels(site),
				Ports: []*api.ServicePort{{Name: "http", Port: 80, Protocol: "TCP",
					TargetPort: &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: 8080}}}},
			},
		})
	}
	if err != nil {
		return nil, err
	}
	if !ownedBy(cur, site) {
		return nil, reconcile.Terminal(fmt.Errorf("service %s/%s %w", md.GetNamespace(), md.GetName(), errNotOwned))
	}
	return cur, nil
}
