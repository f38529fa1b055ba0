package audit

import (
	"fmt"
	"strings"
	"time"
)

// Attributes connectors/x509 records on a KindX509Certificate, which the
// certificate rules read (docs/policy.md).
const (
	CertKeyType       = "key_type"            // RSA, ECDSA, Ed25519, DSA
	CertKeyBits       = "key_bits"            // modulus or curve size
	CertSignature     = "signature_algorithm" // as crypto/x509 names it: SHA256-RSA, ECDSA-SHA1, …
	CertSANs          = "sans"                // DNS names, IPs, emails, URIs, comma-separated
	CertSelfSigned    = "self_signed"         // true when subject and issuer are the same and it verifies itself
	CertIsCA          = "is_ca"               // true for a CA certificate
	CertTrusted       = "trusted"             // true when it chains to a root the reading machine trusts
	CertTLSEndpoints  = "tls_endpoints"       // HOST:PORT that presented it, comma-separated
	CertFiles         = "files"               // files that hold it, comma-separated
	minRSABits        = 2048
	cabfMaxValidity   = "the CA/Browser Forum's limit for publicly trusted TLS certificates"
	weakSignaturePart = "SHA1"
)

// certificateCheck is the rules that only a certificate can fire.
func certificateCheck(rule string, o *Observation, r RulePolicy, now time.Time) string {
	a := o.Attributes
	switch rule {
	case RuleWeakKey:
		var why []string
		if bits, err := atoiSet(a[CertKeyBits]); err == nil && a[CertKeyType] == "RSA" && bits < minRSABits {
			why = append(why, fmt.Sprintf("RSA key of %d bits (at least %d)", bits, minRSABits))
		}
		if sig := strings.ToUpper(a[CertSignature]); strings.Contains(sig, weakSignaturePart) || strings.Contains(sig, "MD5") || strings.Contains(sig, "MD2") {
			why = append(why, "signed with "+a[CertSignature]+", which collisions break")
		}
		return strings.Join(why, "; ")
	case RuleSelfSigned:
		if a[CertSelfSigned] == "true" && a[CertTLSEndpoints] != "" {
			return "self-signed, presented by " + a[CertTLSEndpoints] + ": clients can only trust it by pinning it or by not verifying at all"
		}
	case RuleNotYetValid:
		// Only as a TLS endpoint serves it: a file may hold a certificate
		// issued ahead of a rotation, which is no mistake.
		if a[CertTLSEndpoints] != "" && o.CreatedAt != nil && o.CreatedAt.After(now) {
			return fmt.Sprintf("presented by %s but not valid until %s, %s after it was read: clients refuse it until then",
				a[CertTLSEndpoints], o.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), aheadBy(o.CreatedAt.Sub(now)))
		}
	case RuleLongLived:
		if a[CertTrusted] != "true" || a[CertIsCA] == "true" || o.CreatedAt == nil || o.ExpiresAt == nil {
			return ""
		}
		days := int(o.ExpiresAt.Sub(*o.CreatedAt).Hours() / 24)
		if days > r.Days {
			return fmt.Sprintf("valid for %s days (%s to %s), more than %d, %s; policy: %d",
				Thousands(days), day(o.CreatedAt), day(o.ExpiresAt), r.Days, cabfMaxValidity, r.Days)
		}
	case RuleWildcard:
		var wild []string
		for _, n := range splitList(a[CertSANs]) {
			if strings.HasPrefix(n, "*.") {
				wild = append(wild, n)
			}
		}
		if len(wild) > 0 {
			return "covers every host under " + strings.Join(wild, ", ") + ": one key shared by all of them"
		}
	}
	return ""
}

// aheadBy says how far ahead a time is, to the nearest of the unit that
// matters: "3 days", "5 hours", "12 minutes".
func aheadBy(d time.Duration) string {
	switch {
	case d >= 36*time.Hour:
		return Thousands(int(d.Round(24*time.Hour)/(24*time.Hour))) + " days"
	case d >= 90*time.Minute:
		return fmt.Sprintf("%d hours", int(d.Round(time.Hour)/time.Hour))
	case d >= 90*time.Second:
		return fmt.Sprintf("%d minutes", int(d.Round(time.Minute)/time.Minute))
	}
	return "moments"
}
