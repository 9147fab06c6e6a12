package rpc

import "github.com/odoo-shim/odoo-shim/models"

// pageTexts are the reset page's words. Labels are Odoo's (so users see what Odoo shows);
// the sentences that guide the user are odoo-shim's own.
type pageTexts struct {
	Title, YourEmail, YourName, Password, ConfirmPassword, Submit, BackToLogin string
	ChooseIntro, RequestIntro, LengthHint, NextStep, NextDone, InvalidHelp     string
	SignIn, PasswordChanged, NewLink, RequestHelp                              string
	TooManyRequests                                                            string
	// The standalone landing page (landing.go).
	SignedInTitle, SignedInAs, LandingNext, OpenOdoo, SignOut string
	SignedOutTitle, SignedOutText, ForgotPassword             string
}

var englishTexts = pageTexts{
	ChooseIntro: "Choose a new password for your account. You will sign in with it from now on.",
	RequestIntro: "Enter the login or e-mail address of your account. We will e-mail you a " +
		"link to choose a new password.",
	LengthHint: "Use at least %d characters.",
	NextStep: "Open that e-mail and press its button within %d hours. No e-mail after a " +
		"few minutes? Look in your spam folder, or ask for a new link.",
	RequestHelp: "Check what you typed: your login, or the e-mail address of your account. " +
		"If it still does not work, ask your administrator.",
	NextDone: "You can now sign in with your new password.",
	TooManyRequests: "Too many links were asked for. Check your mailbox (and its spam " +
		"folder) for the links already sent, or try again in 15 minutes.",
	InvalidHelp: "This link has expired, has already been used, or was replaced by a newer " +
		"one. Ask for a new link, or ask your administrator to send you one.",
	SignIn:          "Sign in",
	PasswordChanged: "Your password has been changed.",
	NewLink:         "Send me a new link",
	SignedInTitle:   "You are signed in",
	SignedInAs:      "Signed in as %s (%s).",
	LandingNext: "Your new password is active. From now on, sign in to Odoo with it; " +
		"if Odoo asks you to sign in, use your login and this new password.",
	OpenOdoo:       "Open Odoo",
	SignOut:        "Sign out",
	SignedOutTitle: "You are not signed in",
	SignedOutText: "You have signed out, or your session has ended. Sign in again with " +
		"your login and password.",
	ForgotPassword: "Forgot your password?",
}

var indonesianTexts = pageTexts{
	ChooseIntro: "Pilih kata sandi baru untuk akun Anda. Mulai sekarang Anda masuk dengan " +
		"kata sandi ini.",
	RequestIntro: "Masukkan login atau alamat email akun Anda. Kami akan mengirim email " +
		"berisi tautan untuk memilih kata sandi baru.",
	LengthHint: "Gunakan minimal %d karakter.",
	NextStep: "Buka email tersebut lalu tekan tombol di dalamnya dalam %d jam. Belum ada " +
		"email setelah beberapa menit? Periksa folder spam, atau minta tautan baru.",
	RequestHelp: "Periksa yang Anda ketik: login Anda, atau alamat email akun Anda. Jika " +
		"masih tidak berhasil, hubungi administrator Anda.",
	NextDone: "Sekarang Anda dapat masuk dengan kata sandi baru.",
	TooManyRequests: "Terlalu banyak tautan diminta. Periksa kotak masuk Anda (juga folder " +
		"spam) untuk tautan yang sudah dikirim, atau coba lagi 15 menit lagi.",
	InvalidHelp: "Tautan ini sudah kedaluwarsa, sudah dipakai, atau digantikan tautan yang " +
		"lebih baru. Minta tautan baru, atau minta administrator mengirimkannya.",
	SignIn:          "Masuk",
	PasswordChanged: "Kata sandi Anda telah diubah.",
	NewLink:         "Kirim tautan baru",
	SignedInTitle:   "Anda sudah masuk",
	SignedInAs:      "Masuk sebagai %s (%s).",
	LandingNext: "Kata sandi baru Anda sudah aktif. Mulai sekarang masuklah ke Odoo " +
		"dengannya; jika Odoo meminta Anda masuk, gunakan login Anda dan kata sandi baru ini.",
	OpenOdoo:       "Buka Odoo",
	SignOut:        "Keluar",
	SignedOutTitle: "Anda belum masuk",
	SignedOutText: "Anda sudah keluar, atau sesi Anda telah berakhir. Masuk kembali " +
		"dengan login dan kata sandi Anda.",
	ForgotPassword: "Lupa kata sandi?",
}

// texts returns the page texts for lang: Indonesian for id locales, else English.
func texts(lang string) pageTexts {
	t := englishTexts
	if models.IsIndonesian(lang) {
		t = indonesianTexts
	}
	t.Title = models.T(lang, models.MsgResetPassword)
	t.Submit = models.T(lang, models.MsgResetPassword)
	t.YourEmail = models.T(lang, models.MsgYourEmail)
	t.YourName = models.T(lang, models.MsgYourName)
	t.Password = models.T(lang, models.MsgPassword)
	t.ConfirmPassword = models.T(lang, models.MsgConfirmPassword)
	t.BackToLogin = models.T(lang, models.MsgBackToLogin)
	return t
}
