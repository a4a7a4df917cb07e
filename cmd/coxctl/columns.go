package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
)

// column is one column of a table.
type column struct {
	name  string
	wide  bool // only with -o wide
	value func(api.Object) string
}

var (
	nameCol = column{name: "NAME", value: func(o api.Object) string { return o.GetMetadata().GetName() }}
	ageCol  = column{name: "AGE", value: func(o api.Object) string { return age(o.GetMetadata().GetCreationTimestamp()) }}
)

// columnsFor returns the table columns of kind: the ones kubectl shows.
func columnsFor(kind string) []column {
	switch kind {
	case api.KindPod:
		return []column{nameCol,
			{name: "READY", value: on(podReady)},
			{name: "STATUS", value: on(podStatus)},
			{name: "RESTARTS", value: on(func(p *api.Pod) string {
				n := int32(0)
				for _, c := range p.GetStatus().GetContainerStatuses() {
					n += c.GetRestartCount()
				}
				return strconv.Itoa(int(n))
			})},
			ageCol,
			{name: "IP", wide: true, value: on(func(p *api.Pod) string { return p.GetStatus().GetPodIp() })},
			{name: "NODE", wide: true, value: on(func(p *api.Pod) string { return p.GetSpec().GetNodeName() })},
		}
	case api.KindDeployment:
		return []column{nameCol,
			{name: "READY", value: on(func(d *api.Deployment) string {
				return fmt.Sprintf("%d/%d", d.GetStatus().GetReadyReplicas(), d.GetSpec().GetReplicas())
			})},
			{name: "UP-TO-DATE", value: on(func(d *api.Deployment) string { return itoa(d.GetStatus().GetUpdatedReplicas()) })},
			{name: "AVAILABLE", value: on(func(d *api.Deployment) string { return itoa(d.GetStatus().GetAvailableReplicas()) })},
			ageCol,
			{name: "CONTAINERS", wide: true, value: on(func(d *api.Deployment) string { return containerNames(d.GetSpec().GetTemplate().GetSpec()) })},
			{name: "IMAGES", wide: true, value: on(func(d *api.Deployment) string { return containerImages(d.GetSpec().GetTemplate().GetSpec()) })},
		}
	case api.KindReplicaSet:
		return []column{nameCol,
			{name: "DESIRED", value: on(func(r *api.ReplicaSet) string { return itoa(r.GetSpec().GetReplicas()) })},
			{name: "CURRENT", value: on(func(r *api.ReplicaSet) string { return itoa(r.GetStatus().GetReplicas()) })},
			{name: "READY", value: on(func(r *api.ReplicaSet) string { return itoa(r.GetStatus().GetReadyReplicas()) })},
			ageCol,
			{name: "IMAGES", wide: true, value: on(func(r *api.ReplicaSet) string { return containerImages(r.GetSpec().GetTemplate().GetSpec()) })},
		}
	case api.KindService:
		return []column{nameCol,
			{name: "TYPE", value: on(func(s *api.Service) string { return s.GetSpec().GetType() })},
			{name: "CLUSTER-IP", value: on(func(s *api.Service) string { return s.GetSpec().GetClusterIp() })},
			{name: "EXTERNAL-IP", value: on(func(s *api.Service) string { return strings.Join(s.GetSpec().GetExternalIps(), ",") })},
			{name: "PORT(S)", value: on(servicePorts)},
			ageCol,
			{name: "SELECTOR", wide: true, value: on(func(s *api.Service) string { return joinMap(s.GetSpec().GetSelector()) })},
		}
	case api.KindNode:
		return []column{nameCol,
			{name: "STATUS", value: on(nodeStatus)},
			ageCol,
			{name: "INTERNAL-IP", wide: true, value: on(func(n *api.Node) string {
				for _, a := range n.GetStatus().GetAddresses() {
					if a.GetType() == "InternalIP" {
						return a.GetAddress()
					}
				}
				return ""
			})},
			{name: "POD-CIDR", wide: true, value: on(func(n *api.Node) string { return n.GetSpec().GetPodCidr() })},
		}
	case api.KindEndpoints:
		return []column{nameCol,
			{name: "ENDPOINTS", value: on(func(ep *api.Endpoints) string {
				var out []string
				for _, s := range ep.GetSubsets() {
					for _, a := range s.GetAddresses() {
						for _, p := range s.GetPorts() {
							out = append(out, fmt.Sprintf("%s:%d", a.GetIp(), p.GetPort()))
						}
						if len(s.GetPorts()) == 0 {
							out = append(out, a.GetIp())
						}
					}
				}
				return strings.Join(out, ",")
			})},
			ageCol,
		}
	case api.KindEvent:
		return []column{
			{name: "LAST SEEN", value: on(func(ev *api.Event) string { return age(ev.GetLastTimestamp()) })},
			{name: "TYPE", value: on(func(ev *api.Event) string { return ev.GetType() })},
			{name: "REASON", value: on(func(ev *api.Event) string { return ev.GetReason() })},
			{name: "OBJECT", value: on(func(ev *api.Event) string {
				return strings.ToLower(ev.GetInvolvedObject().GetKind()) + "/" + ev.GetInvolvedObject().GetName()
			})},
			{name: "MESSAGE", value: on(func(ev *api.Event) string { return ev.GetMessage() })},
		}
	case api.KindNamespace:
		return []column{nameCol,
			{name: "STATUS", value: on(func(n *api.Namespace) string {
				if n.GetStatus().GetPhase() == "" {
					return "Active"
				}
				return n.GetStatus().GetPhase()
			})},
			ageCol,
		}
	case api.KindConfigMap:
		return []column{nameCol,
			{name: "DATA", value: on(func(c *api.ConfigMap) string { return strconv.Itoa(len(c.GetData()) + len(c.GetBinaryData())) })},
			ageCol,
		}
	case api.KindSecret:
		return []column{nameCol,
			{name: "TYPE", value: on(func(s *api.Secret) string { return s.GetType() })},
			{name: "DATA", value: on(func(s *api.Secret) string { return strconv.Itoa(len(s.GetData()) + len(s.GetStringData())) })},
			ageCol,
		}
	}
	return []column{nameCol, ageCol}
}

// on adapts a typed cell function to any object (empty for other kinds).
func on[T api.Object](f func(T) string) func(api.Object) string {
	return func(o api.Object) string {
		t, ok := o.(T)
		if !ok {
			return ""
		}
		return f(t)
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func podReady(p *api.Pod) string {
	ready := 0
	for _, c := range p.GetStatus().GetContainerStatuses() {
		if c.GetReady() {
			ready++
		}
	}
	return fmt.Sprintf("%d/%d", ready, len(p.GetSpec().GetContainers()))
}

// podStatus is kubectl's STATUS: a waiting or terminated container's
// reason, else the phase; Terminating once deletion started.
func podStatus(p *api.Pod) string {
	if p.GetMetadata().GetDeletionTimestamp() != nil {
		return "Terminating"
	}
	st := p.GetStatus()
	reason := st.GetPhase()
	if st.GetReason() != "" {
		reason = st.GetReason()
	}
	for _, c := range st.GetInitContainerStatuses() {
		if t := c.GetState().GetTerminated(); t != nil && t.GetExitCode() != 0 {
			return "Init:" + orDefault(t.GetReason(), "Error")
		}
		if w := c.GetState().GetWaiting(); w != nil && w.GetReason() != "" && w.GetReason() != "PodInitializing" {
			return "Init:" + w.GetReason()
		}
	}
	for _, c := range st.GetContainerStatuses() {
		if w := c.GetState().GetWaiting(); w != nil && w.GetReason() != "" {
			reason = w.GetReason()
		} else if t := c.GetState().GetTerminated(); t != nil && reason != "Succeeded" && reason != "Failed" {
			reason = orDefault(t.GetReason(), "Terminated")
		}
	}
	if reason == "" {
		reason = "Pending"
	}
	return reason
}

func nodeStatus(n *api.Node) string {
	s := "Unknown"
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			switch c.GetStatus() {
			case "True":
				s = "Ready"
			case "False":
				s = "NotReady"
			}
		}
	}
	if n.GetSpec().GetUnschedulable() {
		s += ",SchedulingDisabled"
	}
	return s
}

func servicePorts(s *api.Service) string {
	var out []string
	for _, p := range s.GetSpec().GetPorts() {
		v := strconv.Itoa(int(p.GetPort()))
		if p.GetNodePort() != 0 {
			v += ":" + strconv.Itoa(int(p.GetNodePort()))
		}
		out = append(out, v+"/"+orDefault(p.GetProtocol(), "TCP"))
	}
	return strings.Join(out, ",")
}

func containerNames(ps *api.PodSpec) string {
	var out []string
	for _, c := range ps.GetContainers() {
		out = append(out, c.GetName())
	}
	return strings.Join(out, ",")
}

func containerImages(ps *api.PodSpec) string {
	var out []string
	for _, c := range ps.GetContainers() {
		out = append(out, c.GetImage())
	}
	return strings.Join(out, ",")
}

func joinMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + m[k]
	}
	return strings.Join(out, ",")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// now is the clock ages are measured against (a variable for tests).
var now = time.Now

// age is a kubectl-style duration since ts ("5s", "3m", "2h", "4d").
func age(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "<unknown>"
	}
	return shortDuration(now().Sub(ts.AsTime()))
}

func shortDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < 2*time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h"
	default:
		return strconv.Itoa(int(d.Hours()/24)) + "d"
	}
}
