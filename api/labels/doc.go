// Package labels implements label sets and label selectors in the Kubernetes
// syntax.
//
// A selector is a comma-separated list of requirements, all of which must
// hold:
//
//	app=web             equality ("==" is a synonym)
//	tier!=db            inequality (also true when the label is absent)
//	env in (prod,canary)
//	env notin (dev)     (also true when the label is absent)
//	has                 the label exists
//	!legacy             the label does not exist
//
// Parse turns that text into a Selector; FromLabelSelector does the same for
// the structured api.LabelSelector (matchLabels and matchExpressions) that
// kinds such as ReplicaSet carry. Every Selector prints itself in a canonical
// form (requirements sorted by key, set values sorted) that Parse reads back to
// an equal selector.
//
// Keys are qualified names with an optional DNS subdomain prefix
// ("example.com/app"); values are at most 63 characters. ValidateKey and
// ValidateValue check them.
package labels
