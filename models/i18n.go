package models

import (
	"fmt"
	"strings"
)

// Texts Odoo shows to users and clients compare. They are Odoo's exact English source texts
// (msgids) with the Indonesian translations Odoo ships, so that a caller of odoo-shim reads
// what it would read from Odoo.
const (
	MsgArchivedUser  = "You cannot perform this action on an archived user."
	MsgNoEmail       = "Cannot send email: user %s has no email address."
	MsgResetSent     = "A reset password link was send by email" // sic: Odoo 18.0's msgid
	MsgSignupSent    = "A signup link was send by email"         // sic, as above
	MsgNoAccount     = "No account found for this login"
	MsgManyAccounts  = "Multiple accounts found for this login"
	MsgNoLogin       = "No login provided."
	MsgCouldNotReset = "Could not reset your password"
	MsgInvalidToken  = "Invalid signup token"
	MsgTokenExpired  = "Signup token '%s' is not valid or expired"
	MsgPasswordsDiff = "Passwords do not match; please retype them."
	MsgFormNotFilled = "The form was not properly filled in."
	MsgPasswordShort = "Passwords must have at least %d characters, got %d."
	MsgMailContact   = "Could not contact the mail server, please check your outgoing " +
		"email server configuration"
	MsgMailDeliver = "There was an error when trying to deliver your Email, please check " +
		"your configuration"
	// MsgMailQueued and MsgMailStillSending are odoo-shim's own (Odoo has no queued
	// answer): a deliberate deviation, documented in README.md.
	MsgMailQueued = "The email could not be delivered yet. It is queued and odoo-shim " +
		"keeps trying; the link stays valid meanwhile."
	MsgMailStillSending = "The mail server has not answered yet."
	// MsgMailUnconfirmed heads the lines of mails whose whole content went out without a
	// reply from the server (odoo-shim's own text).
	MsgMailUnconfirmed = "Unconfirmed: the whole mail went out but the server did not " +
		"answer, so it may well have arrived. It is not sent again by itself, which could " +
		"deliver it twice; odoo-shim outbox --retry sends it again."
	// MsgNotSent, MsgQueuedRetried, MsgSentOf and MsgNextAttempt head the per-user lines
	// of odoo-shim's delivery answers (its own texts).
	MsgNotSent        = "Not sent:"
	MsgQueuedRetried  = "Queued, retried automatically:"
	MsgSentOf         = "Sent: %d of %d."
	MsgNextAttempt    = "(next attempt in about %s)"
	MsgResetRequested = "Password reset instructions sent to your email"
	MsgSubjectReset   = "Password reset"
	MsgSubjectSignup  = "Welcome to Odoo"
	MsgMissingSMTP    = "Missing SMTP Server\nPlease define at least one SMTP server, " +
		"or provide the SMTP parameters explicitly."
	MsgFieldAccess = "You do not have enough rights to access the fields \"%s\" on %s (%s). " +
		"Please contact your system administrator.\n\nOperation: %s\nUser: %d\nFields:\n" +
		"- %s (allowed for groups %s)"
	MsgRecordMissing = "Record does not exist or has been deleted.\n(Record: %s, User: %d)"
	MsgPrivateMethod = "Private methods (such as '%s.%s') cannot be called remotely."
	MsgNoMethod      = "The method '%s.%s' does not exist"
	MsgNoModel       = "Object %s doesn't exist"
)

// Texts of the versions other than 18.0 where Odoo's wording differs.
const (
	// MsgResetSent19 and MsgSignupSent19 are the notifications once Odoo fixed its typo
	// (late 18.x and 19).
	MsgResetSent19  = "A reset password link was sent by email"
	MsgSignupSent19 = "A signup link was sent by email"
	// MsgNoAccount15 is Odoo 15's answer when a login matches no user, or several.
	MsgNoAccount15 = "Reset password: invalid username or email"
	// MsgResetRequested15 and MsgResetRequested19 are the reset page's answer to a link
	// request in Odoo 15 and 19.
	MsgResetRequested15 = "An email has been sent with credentials to reset your password"
	MsgResetRequested19 = "Password reset instructions sent to your email address."
	// MsgTokenUnknown and MsgTokenNoLonger are Odoo 15-17's errors for a stored token
	// that no partner holds, or that has expired.
	MsgTokenUnknown  = "Signup token '%s' is not valid"
	MsgTokenNoLonger = "Signup token '%s' is no longer valid"
	// MsgFieldAccess19 is Odoo 19's field-access error, which names one field.
	MsgFieldAccess19 = "You do not have enough rights to access the field \"%s\" on %s (%s). " +
		"Please contact your system administrator.\n\nOperation: %s\nUser: %d\nFields:\n" +
		"- %s (allowed for groups %s)"
	// MsgMailFailed16 is the MailDeliveryException text Odoo 15 and 16 let through.
	MsgMailFailed16 = "Mail delivery failed via SMTP server '%s'.\n%s"
)

// Page texts of /web/reset_password, as Odoo labels them.
const (
	MsgYourEmail       = "Your Email"
	MsgYourName        = "Your Name"
	MsgPassword        = "Password"
	MsgConfirmPassword = "Confirm Password"
	MsgResetPassword   = "Reset Password"
	MsgBackToLogin     = "Back to Login"
)

var indonesian = map[string]string{
	MsgArchivedUser: "Anda tidak dapat melakukan tindakan ini pada pengguna yang diarsipkan.",
	// sic: Odoo's translation repeats "pengguna".
	MsgNoEmail: "Tidak dapat mengirim email: pengguna %s pengguna tidak memiliki " +
		"alamat email.",
	MsgResetSent:     "Link reset password telah dikirim melalui email",
	MsgSignupSent:    "Link signup telah dikirim melalui email",
	MsgNoAccount:     "Tidak ada akun yang ditemukan untuk login ini",
	MsgManyAccounts:  "Lebih dari satu akun ditemukan untuk login ini",
	MsgNoLogin:       "Tidak ada login yang disediakan.",
	MsgCouldNotReset: "Tidak dapat membuat ulang sandi",
	MsgInvalidToken:  "Pendaftaran tidak valid token",
	MsgTokenExpired:  "Token signup '%s' tidak valid atau sudahtidak berlaku", // sic
	MsgPasswordsDiff: "Kata Sandi tidak cocok; tolong ketik ulang.",
	MsgFormNotFilled: "Formulir tidak diisi dengan benar.",
	MsgMailContact: "Tidak dapat menghubungi server email, mohon periksa server " +
		"konfigurasi email outgoing",
	MsgMailDeliver: "Terdapat error saat mencoba mengirimkan Email Anda, mohon periksa " +
		"konfigurasi Anda",
	MsgMailQueued: "Email belum dapat dikirim. Email masuk antrean dan odoo-shim terus " +
		"mencoba mengirimkannya; link tetap berlaku selama itu.",
	MsgMailStillSending: "Server email belum menjawab.",
	MsgMailUnconfirmed: "Belum terkonfirmasi: seluruh email sudah terkirim tetapi server " +
		"tidak menjawab, jadi kemungkinan besar email sudah sampai. Email tidak dikirim " +
		"ulang otomatis agar tidak sampai dua kali; odoo-shim outbox --retry mengirimnya " +
		"lagi.",
	MsgNotSent:        "Tidak terkirim:",
	MsgQueuedRetried:  "Dalam antrean, dicoba lagi otomatis:",
	MsgSentOf:         "Terkirim: %d dari %d.",
	MsgNextAttempt:    "(percobaan berikutnya sekitar %s lagi)",
	MsgResetRequested: "Instruksi pengaturan ulang kata sandi telah dikirim melalui email anda",
	MsgSubjectReset:   "Reset Kata sandi",
	MsgSubjectSignup:  "Selamat datang di Odoo",
	MsgFieldAccess: "Anda tidak memiliki hak yang mencukupi untuk mengakses field \"%s\" pada %s " +
		"(%s). Mohon hubungi administrator sistem Anda.\n\nOperasi: %s\nUser: %d\nField:\n" +
		"- %s (diizinkan untuk kelompok %s)",
	MsgResetSent19:      "Link reset password telah dikirim melalui email",
	MsgSignupSent19:     "Link signup telah dikirim melalui email",
	MsgNoAccount15:      "Atur ulang kata sandi: username atau email tidak valid",
	MsgResetRequested15: "Email telah dikirim dengan mandat untuk menyetel ulang sandi",
	MsgResetRequested19: "Instruksi reset password dikirim ke alamat email Anda.",
	MsgTokenUnknown:     "Token pendaftaran '%s' tidak valid",
	MsgTokenNoLonger:    "Token Pendaftaran '%s' sudah tidak berlaku",
	MsgFieldAccess19: "Anda tidak memiliki hak yang mencukupi untuk mengakses field \"%s\" " +
		"pada %s (%s). Mohon hubungi administrator sistem Anda.\n\nOperasi: %s\nUser: %d\n" +
		"Field:\n- %s (diizinkan untuk kelompok %s)",
	MsgYourEmail:       "Email Anda",
	MsgYourName:        "Nama Anda",
	MsgPassword:        "Kata Sandi",
	MsgConfirmPassword: "Konfirmasi Password",
	MsgResetPassword:   "Atur Ulang Kata Sandi",
	MsgBackToLogin:     "Kembali ke Login",
}

// indonesian15 holds the Indonesian texts Odoo 15 translates differently from 16+.
var indonesian15 = map[string]string{
	MsgSubjectReset: "Atur ulang kata sandi",
}

// TVersion is T for an Odoo major version: it applies that version's own translations.
func TVersion(major int, lang, msgid string, args ...any) string {
	if major == 15 && IsIndonesian(lang) {
		if tr, ok := indonesian15[msgid]; ok {
			return T(DefaultLang, tr, args...)
		}
	}
	return T(lang, msgid, args...)
}

// ResetRequestedMsg is the msgid of the reset page's answer to a link request in Odoo
// major version major.
func ResetRequestedMsg(major int) string {
	switch {
	case major <= 15:
		return MsgResetRequested15
	case major >= 19:
		return MsgResetRequested19
	}
	return MsgResetRequested
}

// DefaultLang is the language Odoo falls back to.
const DefaultLang = "en_US"

// T translates an Odoo msgid into lang, formatting args into it. Languages without a
// catalogue, and msgids Odoo leaves untranslated, come back in English.
func T(lang, msgid string, args ...any) string {
	text := msgid
	if IsIndonesian(lang) {
		if tr, ok := indonesian[msgid]; ok {
			text = tr
		}
	}
	if len(args) == 0 {
		return text
	}
	return fmt.Sprintf(text, args...)
}

// IsIndonesian reports whether lang is an Indonesian locale (id or id_ID).
func IsIndonesian(lang string) bool {
	return lang == "id" || strings.HasPrefix(lang, "id_")
}
