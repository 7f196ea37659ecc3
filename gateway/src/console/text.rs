//! The console's words in English and Spanish (the languages Homeroom
//! already writes messages in), chosen by the account's language, or before
//! sign-in by the browser's `Accept-Language`.

use homeroom_proto::identity::v1 as idpb;

pub mod messages;
pub mod rostering;
pub mod staff;
pub mod sync;

/// Every string a page shows; the staff pages' own in [`staff`].
#[derive(Debug)]
pub struct Text {
    pub code: &'static str,
    /// The words of the staff pages (people, profiles, reports).
    pub staff: &'static staff::StaffText,
    /// The words of SIS Rostering's pages.
    pub rostering: &'static rostering::RosteringText,
    /// The words of a sync source's form, pause, bundle upload and the
    /// report's order.
    pub sync: &'static sync::SyncText,
    /// The words of the Messages pages.
    pub messages: &'static messages::MessagesText,
    pub skip_to_content: &'static str,
    pub main_menu: &'static str,
    pub my_account: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub email_or_phone: &'static str,
    pub email_or_phone_hint: &'static str,
    pub password: &'static str,
    pub wrong_credentials: &'static str,
    pub fill_both: &'static str,
    /// "Too many attempts. Try again in {n} minutes."
    pub throttled: &'static str,
    pub unavailable: &'static str,
    pub expired_form: &'static str,
    pub choose_account: &'static str,
    pub choose_account_why: &'static str,
    pub choice_expired: &'static str,
    pub complete_profile: &'static str,
    pub complete_profile_why: &'static str,
    pub join: &'static str,
    pub join_link_bad: &'static str,
    pub new_password: &'static str,
    pub current_password: &'static str,
    pub password_rule: &'static str,
    pub your_details: &'static str,
    pub name: &'static str,
    pub account_type: &'static str,
    pub roles: &'static str,
    pub language: &'static str,
    pub email_and_phone: &'static str,
    pub no_contacts: &'static str,
    /// "Shared with {n} other account(s)".
    pub shared_with_one: &'static str,
    pub shared_with_many: &'static str,
    pub shared_note: &'static str,
    pub confirm_prompt: &'static str,
    pub confirm_prompt_body: &'static str,
    pub contact_managed: &'static str,
    pub your_students: &'static str,
    pub change_password: &'static str,
    pub password_changed: &'static str,
    pub current_password_wrong: &'static str,
    pub sessions: &'static str,
    pub sign_out_everywhere: &'static str,
    pub sign_out_everywhere_why: &'static str,
    pub sign_out_everywhere_confirm: &'static str,
    pub signed_out: &'static str,
    pub signed_out_everywhere: &'static str,
    pub sign_in_again: &'static str,
    pub not_found: &'static str,
    pub not_found_text: &'static str,
    pub go_home: &'static str,
    pub something_wrong: &'static str,
    /// District administrator, rostering administrator, communications
    /// administrator, user manager, teacher, staff, guardian (SPEC's words).
    pub role_names: [&'static str; 7],
    /// Guardian, staff, student.
    pub kind_names: [&'static str; 3],
    pub in_district: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub sign_in_with_code: &'static str,
    pub code_intro: &'static str,
    pub send_code: &'static str,
    pub code_sent: &'static str,
    pub code_label: &'static str,
    pub code_wrong: &'static str,
    pub use_password: &'static str,
    pub notifications: &'static str,
    pub notifications_why: &'static str,
    pub channel_email: &'static str,
    pub channel_sms: &'static str,
    pub channel_voice: &'static str,
    pub save: &'static str,
    pub preferences_saved: &'static str,
    pub change_contact: &'static str,
    pub change_contact_why: &'static str,
    pub mobile_phone: &'static str,
    pub contact_saved: &'static str,
    /// Seed 002: why a change of email or phone is refused while the sync
    /// manages them.
    pub contact_refused: &'static str,
    /// "We sent a code to {dest}. …"
    pub confirm_code_sent: &'static str,
    pub confirm: &'static str,
    pub confirmed: &'static str,
    pub confirm_code_wrong: &'static str,
    pub sign_out_everywhere_failed: &'static str,
    pub sign_out_everywhere_expired: &'static str,
    pub sign_in_with_sso: &'static str,
    pub language_why: &'static str,
}

/// English.
pub static EN: Text = Text {
    code: "en",
    staff: &staff::EN,
    rostering: &rostering::EN,
    sync: &sync::EN,
    messages: &messages::EN,
    skip_to_content: "Skip to content",
    main_menu: "Main menu",
    my_account: "My account",
    sign_in: "Sign in",
    sign_out: "Sign out",
    email_or_phone: "Email or phone number",
    email_or_phone_hint: "The email or phone number your school has for you, in any form.",
    password: "Password",
    wrong_credentials: "That email, phone number or password is not right. Check them and try again.",
    fill_both: "Enter your email or phone number and your password.",
    throttled: "Too many attempts. Try again in {n} minutes.",
    unavailable: "Homeroom is not available right now. Try again in a moment.",
    expired_form: "This form was open too long or came from another page. Try again.",
    choose_account: "Choose an account",
    choose_account_why: "More than one account uses this email or phone number and password. Which one do you want to use now?",
    choice_expired: "The choice expired. Sign in again.",
    complete_profile: "Complete your profile",
    complete_profile_why: "Choose a password to finish setting up your account. You will sign in with your email or phone number and this password.",
    join: "Save and sign in",
    join_link_bad: "This link is not valid any more: it was used, or it expired. Ask your school for a new invitation.",
    new_password: "New password",
    current_password: "Current password",
    password_rule: "At least 8 characters. A few unrelated words make a strong password.",
    your_details: "Your details",
    name: "Name",
    account_type: "Account type",
    roles: "Roles",
    language: "Language",
    email_and_phone: "Email and phone",
    no_contacts: "Your school has no email or phone number for you.",
    shared_with_one: "Shared with 1 other account",
    shared_with_many: "Shared with {n} other accounts",
    shared_note: "A shared email or phone number belongs to more than one account, for example two parents of the same children. Each account keeps its own password and messages.",
    confirm_prompt: "Is this still yours?",
    confirm_prompt_body: "Your school added or changed this contact. You don't need to confirm it to keep receiving messages; if it is not yours, tell your school.",
    contact_managed: "Your school's student information system manages your email and phone number. To change them, ask your school.",
    your_students: "Your students",
    change_password: "Change password",
    password_changed: "Your password was changed. Your other sessions were signed out.",
    current_password_wrong: "The current password is not right.",
    sessions: "Sessions",
    sign_out_everywhere: "Sign out everywhere",
    sign_out_everywhere_why: "Signs you out on every phone and computer, this one included.",
    sign_out_everywhere_confirm: "Sign out on every device?",
    signed_out: "You are signed out.",
    signed_out_everywhere: "You are signed out on every device.",
    sign_in_again: "Sign in again",
    not_found: "Page not found",
    not_found_text: "There is no page at this address.",
    go_home: "Go to the start page",
    something_wrong: "Something went wrong. Try again.",
    role_names: [
        "District administrator",
        "Rostering administrator",
        "Communications administrator",
        "User manager",
        "Teacher",
        "Staff",
        "Parent/guardian",
    ],
    kind_names: ["Parent/guardian", "Staff", "Student"],
    in_district: "whole district",
    email: "Email",
    phone: "Phone",
    sign_in_with_code: "Sign in with a code instead",
    code_intro: "We send a one-time code to your email or phone. No password needed.",
    send_code: "Send me a code",
    code_sent: "If this email or phone belongs to an account, a code is on its way. Enter it below; it works for a few minutes.",
    code_label: "Code",
    code_wrong: "That code is not right, or it expired. Check it, or ask for a new one.",
    use_password: "Sign in with your password",
    notifications: "Notifications",
    notifications_why: "Choose how your school reaches you. Emergency messages come on every channel, whatever you choose.",
    channel_email: "Email",
    channel_sms: "Text messages (SMS)",
    channel_voice: "Voice calls",
    save: "Save",
    preferences_saved: "Your notification choices are saved.",
    change_contact: "Change email or phone",
    change_contact_why: "A new email or phone number receives messages right away; we also send it a code so you can confirm it is yours.",
    mobile_phone: "Mobile phone",
    contact_saved: "Your contact details are saved.",
    contact_refused: "Your email and phone number come from your school's student information system: the setting \"Allow the sync to update contact details of active users\" is on, so a change made here would be overwritten. Ask your school to change them in the student information system.",
    confirm_code_sent: "We sent a code to {dest}. Enter it here; it works for a few minutes.",
    confirm: "Confirm",
    confirmed: "Thank you: this contact is confirmed.",
    confirm_code_wrong: "That code is not right, or it expired. Check it, or send a new one.",
    sign_out_everywhere_failed: "Nothing was signed out: Homeroom did not answer. Try again in a moment.",
    sign_out_everywhere_expired: "Your session had already ended, so your other devices could not be signed out from here. Sign in again, then choose Sign out everywhere.",
    sign_in_with_sso: "Sign in with your school account",
    language_why: "The language of these pages and of the messages your school sends you.",
};

/// Spanish.
pub static ES: Text = Text {
    code: "es",
    staff: &staff::ES,
    rostering: &rostering::ES,
    sync: &sync::ES,
    messages: &messages::ES,
    skip_to_content: "Saltar al contenido",
    main_menu: "Menú principal",
    my_account: "Mi cuenta",
    sign_in: "Iniciar sesión",
    sign_out: "Cerrar sesión",
    email_or_phone: "Correo electrónico o teléfono",
    email_or_phone_hint: "El correo o el teléfono que tiene su escuela, escrito de cualquier forma.",
    password: "Contraseña",
    wrong_credentials: "El correo, el teléfono o la contraseña no son correctos. Revíselos e inténtelo de nuevo.",
    fill_both: "Escriba su correo o teléfono y su contraseña.",
    throttled: "Demasiados intentos. Vuelva a intentarlo en {n} minutos.",
    unavailable: "Homeroom no está disponible ahora. Inténtelo de nuevo en un momento.",
    expired_form: "Este formulario estuvo abierto demasiado tiempo o vino de otra página. Inténtelo de nuevo.",
    choose_account: "Elija una cuenta",
    choose_account_why: "Más de una cuenta usa este correo o teléfono y esta contraseña. ¿Cuál quiere usar ahora?",
    choice_expired: "La elección caducó. Inicie sesión de nuevo.",
    complete_profile: "Complete su perfil",
    complete_profile_why: "Elija una contraseña para terminar de preparar su cuenta. Iniciará sesión con su correo o teléfono y esta contraseña.",
    join: "Guardar e iniciar sesión",
    join_link_bad: "Este enlace ya no es válido: se usó o caducó. Pida a su escuela una nueva invitación.",
    new_password: "Contraseña nueva",
    current_password: "Contraseña actual",
    password_rule: "Al menos 8 caracteres. Unas palabras sin relación forman una contraseña fuerte.",
    your_details: "Sus datos",
    name: "Nombre",
    account_type: "Tipo de cuenta",
    roles: "Funciones",
    language: "Idioma",
    email_and_phone: "Correo y teléfono",
    no_contacts: "Su escuela no tiene un correo ni un teléfono suyos.",
    shared_with_one: "Compartido con otra cuenta",
    shared_with_many: "Compartido con otras {n} cuentas",
    shared_note: "Un correo o teléfono compartido pertenece a más de una cuenta, por ejemplo a los dos padres de los mismos niños. Cada cuenta tiene su propia contraseña y sus mensajes.",
    confirm_prompt: "¿Sigue siendo suyo?",
    confirm_prompt_body: "Su escuela agregó o cambió este contacto. No necesita confirmarlo para seguir recibiendo mensajes; si no es suyo, avise a su escuela.",
    contact_managed: "El sistema de información estudiantil de su escuela administra su correo y su teléfono. Para cambiarlos, pregunte a su escuela.",
    your_students: "Sus estudiantes",
    change_password: "Cambiar la contraseña",
    password_changed: "Su contraseña cambió. Sus otras sesiones se cerraron.",
    current_password_wrong: "La contraseña actual no es correcta.",
    sessions: "Sesiones",
    sign_out_everywhere: "Cerrar sesión en todas partes",
    sign_out_everywhere_why: "Cierra su sesión en todos los teléfonos y computadoras, incluido este.",
    sign_out_everywhere_confirm: "¿Cerrar la sesión en todos los dispositivos?",
    signed_out: "Cerró la sesión.",
    signed_out_everywhere: "Cerró la sesión en todos los dispositivos.",
    sign_in_again: "Iniciar sesión de nuevo",
    not_found: "Página no encontrada",
    not_found_text: "No hay ninguna página en esta dirección.",
    go_home: "Ir a la página de inicio",
    something_wrong: "Algo salió mal. Inténtelo de nuevo.",
    role_names: [
        "Administrador del distrito",
        "Administrador de listas",
        "Administrador de comunicaciones",
        "Gestor de usuarios",
        "Maestro",
        "Personal",
        "Padre/tutor",
    ],
    kind_names: ["Padre/tutor", "Personal", "Estudiante"],
    in_district: "todo el distrito",
    email: "Correo",
    phone: "Teléfono",
    sign_in_with_code: "Iniciar sesión con un código",
    code_intro: "Le enviamos un código de un solo uso a su correo o teléfono. No necesita contraseña.",
    send_code: "Enviarme un código",
    code_sent: "Si este correo o teléfono pertenece a una cuenta, el código va en camino. Escríbalo abajo; funciona por unos minutos.",
    code_label: "Código",
    code_wrong: "El código no es correcto o caducó. Revíselo o pida uno nuevo.",
    use_password: "Iniciar sesión con su contraseña",
    notifications: "Notificaciones",
    notifications_why: "Elija cómo le contacta su escuela. Los mensajes de emergencia llegan por todos los medios, elija lo que elija.",
    channel_email: "Correo electrónico",
    channel_sms: "Mensajes de texto (SMS)",
    channel_voice: "Llamadas de voz",
    save: "Guardar",
    preferences_saved: "Sus preferencias de notificación se guardaron.",
    change_contact: "Cambiar correo o teléfono",
    change_contact_why: "Un correo o teléfono nuevo recibe mensajes de inmediato; también le enviamos un código para que confirme que es suyo.",
    mobile_phone: "Teléfono móvil",
    contact_saved: "Sus datos de contacto se guardaron.",
    contact_refused: "Su correo y su teléfono vienen del sistema de información estudiantil de su escuela: la opción \"Permitir que la sincronización actualice los datos de contacto de los usuarios activos\" está activada, así que un cambio hecho aquí se sobrescribiría. Pida a su escuela que los cambie en el sistema de información estudiantil.",
    confirm_code_sent: "Enviamos un código a {dest}. Escríbalo aquí; funciona por unos minutos.",
    confirm: "Confirmar",
    confirmed: "Gracias: este contacto está confirmado.",
    confirm_code_wrong: "El código no es correcto o caducó. Revíselo o envíe uno nuevo.",
    sign_out_everywhere_failed: "No se cerró ninguna sesión: Homeroom no respondió. Vuelva a intentarlo en un momento.",
    sign_out_everywhere_expired: "Su sesión ya había terminado, así que no se pudo cerrar la sesión en sus otros dispositivos desde aquí. Inicie sesión de nuevo y elija Cerrar sesión en todas partes.",
    sign_in_with_sso: "Iniciar sesión con su cuenta escolar",
    language_why: "El idioma de estas páginas y de los mensajes que le envía su escuela.",
};

/// The words for a language tag (`es`, `es-MX`); English otherwise.
pub fn for_language(tag: &str) -> &'static Text {
    let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
    if primary.eq_ignore_ascii_case("es") {
        &ES
    } else {
        &EN
    }
}

/// The first language of an `Accept-Language` header we have words for.
pub fn for_accept_language(header: &str) -> &'static Text {
    header
        .split(',')
        .map(|part| part.split(';').next().unwrap_or_default().trim())
        .map(|tag| tag.split(['-', '_']).next().unwrap_or_default())
        .find_map(|primary| match primary.to_ascii_lowercase().as_str() {
            "es" => Some(&ES),
            "en" => Some(&EN),
            _ => None,
        })
        .unwrap_or(&EN)
}

impl Text {
    /// `template` with `{n}` replaced.
    pub fn with_n(template: &str, n: u64) -> String {
        template.replace("{n}", &n.to_string())
    }

    /// A role's name.
    pub fn role(&self, role: idpb::Role) -> &'static str {
        use idpb::Role as R;
        let i = match role {
            R::Unspecified => return "—",
            R::DistrictAdmin => 0,
            R::RosteringAdmin => 1,
            R::CommunicationsAdmin => 2,
            R::UserManager => 3,
            R::Teacher => 4,
            R::Staff => 5,
            R::Guardian => 6,
        };
        self.role_names[i]
    }

    /// An account kind's name.
    pub fn kind(&self, kind: idpb::AccountKind) -> &'static str {
        use idpb::AccountKind as K;
        match kind {
            K::Unspecified => "—",
            K::Guardian => self.kind_names[0],
            K::Staff => self.kind_names[1],
            K::Student => self.kind_names[2],
        }
    }

    /// The shared-credential mark for `others` other accounts.
    pub fn shared_with(&self, others: u32) -> String {
        if others == 1 {
            self.shared_with_one.to_owned()
        } else {
            Text::with_n(self.shared_with_many, u64::from(others))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_comes_from_the_account_or_the_browser() {
        assert_eq!(for_language("es-MX").code, "es");
        assert_eq!(for_language("").code, "en");
        assert_eq!(for_accept_language("fr-CA, es;q=0.8, en;q=0.5").code, "es");
        assert_eq!(for_accept_language("de").code, "en");
        assert_eq!(EN.shared_with(1), "Shared with 1 other account");
        assert_eq!(ES.shared_with(3), "Compartido con otras 3 cuentas");
    }
}
