package validation

import (
	"slices"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
)

// template checks a pod template and that selector (when not nil) selects
// its labels. restart lists the restartPolicy values the controller allows.
func (e *errs) template(t *api.PodTemplateSpec, sel labels.Selector, p path, restart ...string) {
	if t == nil {
		e.required(p, "")
		return
	}
	md := t.GetMetadata()
	e.labelMap(p.child("metadata", "labels"), md.GetLabels())
	for _, k := range sortedKeys(md.GetAnnotations()) {
		e.qualifiedName(p.child("metadata", "annotations"), k)
	}
	if sel != nil && !sel.Empty() && !sel.Matches(labels.Set(md.GetLabels())) {
		e.invalid(p.child("metadata", "labels"), labels.Set(md.GetLabels()).String(), "selector does not match template labels")
	}
	e.podSpec(t.GetSpec(), p.child("spec"))
	if len(restart) > 0 && t.GetSpec() != nil {
		// An empty restartPolicy defaults to Always, so it passes where Always does.
		e.oneOf(p.child("spec", "restartPolicy"), t.GetSpec().GetRestartPolicy(), slices.Contains(restart, "Always"), restart...)
	}
}

// selector checks a structured selector that must be present and non-empty,
// and returns the parsed form (nil when invalid).
func (e *errs) selector(ls *api.LabelSelector, p path) labels.Selector {
	if ls == nil {
		e.required(p, "")
		return nil
	}
	if len(ls.GetMatchLabels()) == 0 && len(ls.GetMatchExpressions()) == 0 {
		e.invalid(p, "{}", "empty selector is invalid for this kind: it would select every pod")
		return nil
	}
	before := len(e.list)
	e.labelSelector(ls, p)
	if len(e.list) > before {
		return nil
	}
	sel, err := labels.FromLabelSelector(ls)
	if err != nil {
		e.invalid(p, "", "%s", err)
		return nil
	}
	return sel
}

// replicated checks a controller's selector and template (restartPolicy Always).
func (e *errs) replicated(ls *api.LabelSelector, t *api.PodTemplateSpec, p path) {
	sel := e.selector(ls, p.child("selector"))
	e.template(t, sel, p.child("template"), "Always")
}

func (e *errs) replicationController(s *api.ReplicationControllerSpec, p path) {
	if s == nil {
		e.required(p, "")
		return
	}
	e.nonNegative(p.child("replicas"), int64(s.GetReplicas()))
	e.nonNegative(p.child("minReadySeconds"), int64(s.GetMinReadySeconds()))
	var sel labels.Selector
	if len(s.GetSelector()) == 0 {
		e.required(p.child("selector"), "")
	} else {
		before := len(e.list)
		e.labelMap(p.child("selector"), s.GetSelector())
		if len(e.list) == before {
			sel = labels.SelectorFromSet(labels.Set(s.GetSelector()))
		}
	}
	e.template(s.GetTemplate(), sel, p.child("template"), "Always")
}

func (e *errs) deployment(s *api.DeploymentSpec, p path) {
	if s == nil {
		e.required(p, "")
		return
	}
	e.nonNegative(p.child("replicas"), int64(s.GetReplicas()))
	e.replicated(s.GetSelector(), s.GetTemplate(), p)
	e.nonNegative(p.child("minReadySeconds"), int64(s.GetMinReadySeconds()))
	if s.RevisionHistoryLimit != nil {
		e.nonNegative(p.child("revisionHistoryLimit"), int64(s.GetRevisionHistoryLimit()))
	}
	if s.ProgressDeadlineSeconds != nil {
		e.positive(p.child("progressDeadlineSeconds"), int64(s.GetProgressDeadlineSeconds()))
		if s.GetProgressDeadlineSeconds() <= s.GetMinReadySeconds() {
			e.invalid(p.child("progressDeadlineSeconds"), s.GetProgressDeadlineSeconds(), "must be greater than minReadySeconds")
		}
	}
	st := s.GetStrategy()
	sp := p.child("strategy")
	e.oneOf(sp.child("type"), st.GetType(), true, "RollingUpdate", "Recreate")
	ru := st.GetRollingUpdate()
	if st.GetType() == "Recreate" && ru != nil {
		e.forbidden(sp.child("rollingUpdate"), "may not be specified when strategy type is Recreate")
		return
	}
	if ru != nil {
		e.surge(ru.GetMaxSurge(), ru.GetMaxUnavailable(), sp.child("rollingUpdate"))
	}
}

// surge checks a rolling update's maxSurge and maxUnavailable.
func (e *errs) surge(surge, unavailable *api.IntOrString, p path) {
	e.intOrPercent(p.child("maxSurge"), surge, false)
	e.intOrPercent(p.child("maxUnavailable"), unavailable, true)
	if isZero(surge) && isZero(unavailable) && surge != nil && unavailable != nil {
		e.invalid(p.child("maxUnavailable"), unavailable.GetIntVal(), "may not be 0 when maxSurge is 0")
	}
}

// isZero reports whether v is 0 or "0%".
func isZero(v *api.IntOrString) bool {
	if v == nil {
		return true
	}
	if _, ok := v.GetValue().(*api.IntOrString_IntVal); ok {
		return v.GetIntVal() == 0
	}
	n, ok := parsePercent(v.GetStrVal())
	return ok && n == 0
}

func (e *errs) daemonSet(s *api.DaemonSetSpec, p path) {
	if s == nil {
		e.required(p, "")
		return
	}
	e.replicated(s.GetSelector(), s.GetTemplate(), p)
	e.nonNegative(p.child("minReadySeconds"), int64(s.GetMinReadySeconds()))
	if s.RevisionHistoryLimit != nil {
		e.nonNegative(p.child("revisionHistoryLimit"), int64(s.GetRevisionHistoryLimit()))
	}
	us := s.GetUpdateStrategy()
	up := p.child("updateStrategy")
	e.oneOf(up.child("type"), us.GetType(), true, "RollingUpdate", "OnDelete")
	if ru := us.GetRollingUpdate(); ru != nil {
		if us.GetType() == "OnDelete" {
			e.forbidden(up.child("rollingUpdate"), "may not be specified when strategy type is OnDelete")
			return
		}
		e.surge(ru.GetMaxSurge(), ru.GetMaxUnavailable(), up.child("rollingUpdate"))
	}
}

func (e *errs) jobSpec(s *api.JobSpec, p path) {
	if s == nil {
		e.required(p, "")
		return
	}
	if s.Parallelism != nil {
		e.nonNegative(p.child("parallelism"), int64(s.GetParallelism()))
	}
	if s.Completions != nil {
		e.nonNegative(p.child("completions"), int64(s.GetCompletions()))
	}
	if s.BackoffLimit != nil {
		e.nonNegative(p.child("backoffLimit"), int64(s.GetBackoffLimit()))
	}
	if s.ActiveDeadlineSeconds != nil {
		e.positive(p.child("activeDeadlineSeconds"), s.GetActiveDeadlineSeconds())
	}
	if s.TtlSecondsAfterFinished != nil {
		e.nonNegative(p.child("ttlSecondsAfterFinished"), int64(s.GetTtlSecondsAfterFinished()))
	}
	e.oneOf(p.child("completionMode"), s.GetCompletionMode(), true, "NonIndexed", "Indexed")
	if s.GetCompletionMode() == "Indexed" && s.Completions == nil {
		e.required(p.child("completions"), "when completionMode is Indexed")
	}
	var sel labels.Selector
	if s.GetSelector() != nil {
		sel = e.selector(s.GetSelector(), p.child("selector"))
	} else if s.GetManualSelector() {
		e.required(p.child("selector"), "when manualSelector is true")
	}
	e.template(s.GetTemplate(), sel, p.child("template"), "OnFailure", "Never")
}

func (e *errs) cronJob(s *api.CronJobSpec, p path) {
	if s == nil {
		e.required(p, "")
		return
	}
	if s.GetSchedule() == "" {
		e.required(p.child("schedule"), "")
	} else if err := ValidateSchedule(s.GetSchedule()); err != nil {
		e.invalid(p.child("schedule"), s.GetSchedule(), "%s", err)
	}
	// Time zones are resolved with time.LoadLocation: the host's zone
	// database, or the one a program embeds by importing time/tzdata.
	if s.TimeZone != nil {
		if _, err := time.LoadLocation(s.GetTimeZone()); err != nil || s.GetTimeZone() == "" || s.GetTimeZone() == "Local" {
			e.invalid(p.child("timeZone"), s.GetTimeZone(), "unknown time zone")
		}
	}
	if s.StartingDeadlineSeconds != nil {
		e.nonNegative(p.child("startingDeadlineSeconds"), s.GetStartingDeadlineSeconds())
	}
	e.oneOf(p.child("concurrencyPolicy"), s.GetConcurrencyPolicy(), true, "Allow", "Forbid", "Replace")
	if s.SuccessfulJobsHistoryLimit != nil {
		e.nonNegative(p.child("successfulJobsHistoryLimit"), int64(s.GetSuccessfulJobsHistoryLimit()))
	}
	if s.FailedJobsHistoryLimit != nil {
		e.nonNegative(p.child("failedJobsHistoryLimit"), int64(s.GetFailedJobsHistoryLimit()))
	}
	jt := s.GetJobTemplate()
	if jt == nil {
		e.required(p.child("jobTemplate"), "")
		return
	}
	e.labelMap(p.child("jobTemplate", "metadata", "labels"), jt.GetMetadata().GetLabels())
	e.jobSpec(jt.GetSpec(), p.child("jobTemplate", "spec"))
}

// scheduleParser accepts the five-field cron syntax and descriptors such as
// @hourly, like Kubernetes.
var scheduleParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ValidateSchedule checks a CronJob schedule: five cron fields (minute hour
// day-of-month month day-of-week) or a descriptor such as @daily. Time zones
// belong in spec.timeZone, not in the schedule.
func ValidateSchedule(s string) error {
	if len(s) > 3 && (s[:3] == "TZ=" || (len(s) > 8 && s[:8] == "CRON_TZ=")) {
		return errorString("time zones in the schedule are not supported; use spec.timeZone")
	}
	_, err := scheduleParser.Parse(s)
	return err
}

type errorString string

func (e errorString) Error() string { return string(e) }

func (e *errs) hpa(s *api.HorizontalPodAutoscalerSpec, p path) {
	if s == nil {
		e.required(p, "")
		return
	}
	ref := s.GetScaleTargetRef()
	rp := p.child("scaleTargetRef")
	if ref.GetKind() == "" {
		e.required(rp.child("kind"), "")
	}
	if ref.GetName() == "" {
		e.required(rp.child("name"), "")
	} else {
		e.dnsSubdomain(rp.child("name"), ref.GetName())
	}
	minR := int32(1)
	if s.MinReplicas != nil {
		minR = s.GetMinReplicas()
		if minR < 1 {
			e.invalid(p.child("minReplicas"), minR, "must be greater than or equal to 1")
		}
	}
	if s.GetMaxReplicas() < 1 {
		e.invalid(p.child("maxReplicas"), s.GetMaxReplicas(), "must be greater than or equal to 1")
	} else if s.GetMaxReplicas() < minR {
		e.invalid(p.child("maxReplicas"), s.GetMaxReplicas(), "must be greater than or equal to minReplicas")
	}
	if s.TargetCpuUtilizationPercentage != nil {
		e.positive(p.child("targetCPUUtilizationPercentage"), int64(s.GetTargetCpuUtilizationPercentage()))
	}
	for i, m := range s.GetMetrics() {
		mp := p.child("metrics").index(i)
		e.oneOf(mp.child("type"), m.GetType(), false, "Resource", "Pods", "External")
		var target *api.MetricTarget
		switch m.GetType() {
		case "Resource":
			if m.GetResource() == nil {
				e.required(mp.child("resource"), "when type is Resource")
				continue
			}
			if m.GetResource().GetName() == "" {
				e.required(mp.child("resource", "name"), "")
			}
			target = m.GetResource().GetTarget()
			mp = mp.child("resource")
		case "Pods":
			if m.GetPods() == nil {
				e.required(mp.child("pods"), "when type is Pods")
				continue
			}
			if m.GetPods().GetMetric().GetName() == "" {
				e.required(mp.child("pods", "metric", "name"), "")
			}
			target = m.GetPods().GetTarget()
			mp = mp.child("pods")
		case "External":
			if m.GetExternal() == nil {
				e.required(mp.child("external"), "when type is External")
				continue
			}
			if m.GetExternal().GetMetric().GetName() == "" {
				e.required(mp.child("external", "metric", "name"), "")
			}
			target = m.GetExternal().GetTarget()
			mp = mp.child("external")
		default:
			continue
		}
		e.metricTarget(target, mp.child("target"))
	}
	for i, r := range []*api.HPAScalingRules{s.GetBehavior().GetScaleUp(), s.GetBehavior().GetScaleDown()} {
		name := []string{"scaleUp", "scaleDown"}[i]
		if r == nil {
			continue
		}
		bp := p.child("behavior", name)
		if r.StabilizationWindowSeconds != nil && (r.GetStabilizationWindowSeconds() < 0 || r.GetStabilizationWindowSeconds() > 3600) {
			e.invalid(bp.child("stabilizationWindowSeconds"), r.GetStabilizationWindowSeconds(), "must be between 0 and 3600")
		}
		e.oneOf(bp.child("selectPolicy"), r.GetSelectPolicy(), true, "Max", "Min", "Disabled")
		for i, pol := range r.GetPolicies() {
			pp := bp.child("policies").index(i)
			e.oneOf(pp.child("type"), pol.GetType(), false, "Pods", "Percent")
			e.positive(pp.child("value"), int64(pol.GetValue()))
			if pol.GetPeriodSeconds() <= 0 || pol.GetPeriodSeconds() > 1800 {
				e.invalid(pp.child("periodSeconds"), pol.GetPeriodSeconds(), "must be between 1 and 1800")
			}
		}
	}
}

func (e *errs) metricTarget(t *api.MetricTarget, p path) {
	if t == nil {
		e.required(p, "")
		return
	}
	e.oneOf(p.child("type"), t.GetType(), false, "Utilization", "Value", "AverageValue")
	switch t.GetType() {
	case "Utilization":
		if t.AverageUtilization == nil {
			e.required(p.child("averageUtilization"), "when type is Utilization")
		} else {
			e.positive(p.child("averageUtilization"), int64(t.GetAverageUtilization()))
		}
	case "Value":
		if t.GetValue() == "" {
			e.required(p.child("value"), "when type is Value")
		}
	case "AverageValue":
		if t.GetAverageValue() == "" {
			e.required(p.child("averageValue"), "when type is AverageValue")
		}
	}
	q := map[string]string{}
	if t.GetValue() != "" {
		q["value"] = t.GetValue()
	}
	if t.GetAverageValue() != "" {
		q["averageValue"] = t.GetAverageValue()
	}
	e.quantities(p, q, false)
}

func (e *errs) pdb(s *api.PodDisruptionBudgetSpec, p path) {
	if s == nil {
		e.required(p, "")
		return
	}
	if s.GetMinAvailable() != nil && s.GetMaxUnavailable() != nil {
		e.invalid(p, "", "minAvailable and maxUnavailable cannot both be set")
	}
	e.intOrPercent(p.child("minAvailable"), s.GetMinAvailable(), true)
	e.intOrPercent(p.child("maxUnavailable"), s.GetMaxUnavailable(), true)
	e.labelSelector(s.GetSelector(), p.child("selector"))
}
