package filter

import "strings"

// Kubernetes permissions are recorded as verb lists ("get,list,watch"),
// one per resource (docs/kubernetes.md). perm.secrets:get asks for a verb;
// perm.secrets:read and perm:admin rank a verb list by its strongest verb,
// so one filter reads GitHub's levels and Kubernetes' verbs alike.

// kubeVerbs are the verbs perm.NAME:VERB accepts, with the level each
// ranks as: reading, changing, or taking over (escalate, bind,
// impersonate, and * for every verb).
var kubeVerbs = map[string]int{
	"get": 1, "list": 1, "watch": 1,
	"create": 2, "update": 2, "patch": 2, "delete": 2, "deletecollection": 2,
	"use": 2, "approve": 2, "sign": 2,
	"escalate": 3, "bind": 3, "impersonate": 3, "*": 3,
}

// permRank ranks a permission value: a level (read, write, admin), or a
// verb list by its strongest verb.
func permRank(v string) int {
	if r := rankFold(permLevels, v); r > 0 {
		return r
	}
	best := 0
	for rest := v; rest != ""; {
		var verb string
		verb, rest, _ = strings.Cut(rest, ",")
		if r := kubeVerbs[strings.ToLower(strings.TrimSpace(verb))]; r > best {
			best = r
		}
	}
	return best
}

// hasVerb reports whether verb list v grants verb, itself or through *.
func hasVerb(v, verb string) bool {
	for rest := v; rest != ""; {
		var got string
		got, rest, _ = strings.Cut(rest, ",")
		got = strings.TrimSpace(got)
		if got == "*" || strings.EqualFold(got, verb) {
			return true
		}
	}
	return false
}
