//! The email flows in a real browser, the mail going over SMTP to the double: a
//! forgotten password (the form, the message, the link's page, the new password,
//! signed in), and a sign-in with the code from the message.

use crate::providers::Double;
use crate::webdriver::Browser;
use crate::{
    assert_accessible_form, assert_axe_clean, assert_text, axe_source, sign_out, sign_up, start_app,
    wait_for_url, Driver, Shots, TempDb,
};

#[rocket::async_test]
async fn forgot_password_and_a_sign_in_by_emailed_code_work_in_chromium() {
    let axe = axe_source();
    let double = Double::start().await;
    let db = TempDb::new("email");
    let (app, mail) = start_app(&double, &db).await;
    let driver = Driver::start().await;
    let mut shots = Shots::new();
    let at = |path: &str| format!("{app}{path}");

    let browser = Browser::open(&driver.url, 1280, None).await;
    sign_up(&browser, &app, "Katherine", "katherine@example.com").await;
    assert_text(&browser, "We sent a link to katherine@example.com").await;
    sign_out(&browser).await;

    // Forgot the password: from the sign-in page, through the message, to a new one.
    browser.goto(&at("/signin")).await;
    browser.find("a[href='/forgot-password']").await.click().await;
    wait_for_url(&browser, "the forgot-password page", |u| u == at("/forgot-password")).await;
    assert_accessible_form(&browser).await;
    assert_axe_clean(&browser, &axe).await;
    shots.take(&browser, "forgot-password").await;
    browser.submit(&[("#email", "katherine@example.com")], "form[action='/forgot-password'] button").await;
    assert_text(&browser, "If an account uses that address").await;
    let link = mail.wait_for_subject("katherine@example.com", "Reset your").await.link();
    assert!(link.starts_with(&at("/reset-password?token=")), "{link}");
    browser.goto(&link).await;
    assert_text(&browser, "Choose a new password").await;
    assert_accessible_form(&browser).await;
    assert_axe_clean(&browser, &axe).await;
    shots.take(&browser, "reset-password").await;
    let new_password = "meadow lantern quartz harbor";
    browser.submit(&[("#newPassword", new_password)], "form[action='/reset-password'] button").await;
    wait_for_url(&browser, "signed in after the reset", |u| u == at("/")).await;
    assert_text(&browser, "Your password was reset.").await;
    assert_text(&browser, "katherine@example.com").await;
    sign_out(&browser).await;

    // A sign-in with the code from the message, typed on the verify-request page.
    browser.goto(&at("/signin?callbackUrl=%2Fsessions")).await;
    browser
        .submit(&[("#signin-email", "katherine@example.com")], "form[action='/api/auth/signin/email'] button")
        .await;
    wait_for_url(&browser, "the verify-request page", |u| u.starts_with(&at("/api/auth/verify-request")))
        .await;
    assert_text(&browser, "Check your email").await;
    assert_accessible_form(&browser).await;
    assert_axe_clean(&browser, &axe).await;
    shots.take(&browser, "verify-request").await;
    let code = mail.wait_for_subject("katherine@example.com", "sign-in link").await.code();
    browser.submit(&[("#code", &code)], "form[action='/api/auth/callback/email'] button").await;
    wait_for_url(&browser, "signed in with the code", |u| u == at("/sessions")).await;
    assert_text(&browser, "This device").await;
    browser.close().await;
    drop(driver);
}
