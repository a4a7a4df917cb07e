package deployment_test

import (
	"context"
	"fmt"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/deployment"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

// Roll a Deployment from v1 to v2, then back to revision 1 with the
// rollback annotation.
func Example_rollback() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	env, err := testenv.New(ctx, testenv.Options{Nodes: 2})
	if err != nil {
		panic(err)
	}
	defer env.Stop()
	deps := store.For[*api.Deployment](env.Store)
	replicas := int32(3)
	if _, err := deps.Create(ctx, &api.Deployment{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: &api.DeploymentSpec{
			Replicas: &replicas,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "web", Image: "web:v1"}}},
			},
		},
	}); err != nil {
		panic(err)
	}
	rolledOut := func(image string) string {
		err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default", LabelSelector: "app=web"}, func(pods []*api.Pod) bool {
			n := 0
			for _, p := range pods {
				if podutil.IsActive(p) && podutil.IsReady(p) && p.GetSpec().GetContainers()[0].GetImage() == image {
					n++
				} else {
					return false
				}
			}
			return n == 3
		})
		if err != nil {
			return err.Error()
		}
		return "3 pods of " + image
	}
	fmt.Println(rolledOut("web:v1"))

	_, _ = deps.Mutate(ctx, "default", "web", func(d *api.Deployment) error {
		d.Spec.Template.Spec.Containers[0].Image = "web:v2"
		return nil
	})
	fmt.Println(rolledOut("web:v2"))

	_, _ = deps.Mutate(ctx, "default", "web", func(d *api.Deployment) error {
		d.Metadata.Annotations = map[string]string{deployment.AnnotationRollbackTo: "1"}
		return nil
	})
	fmt.Println(rolledOut("web:v1"))
	// Output:
	// 3 pods of web:v1
	// 3 pods of web:v2
	// 3 pods of web:v1
}
