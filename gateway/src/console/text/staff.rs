//! The words of the staff pages (people, profiles, roles, reports, the
//! audit log), reached as `chrome.t.staff`. Placeholders in braces (`{n}`,
//! `{name}`) are replaced by the page's code.

use super::Text;

/// Every string the staff pages show, beside the ones they share with the
/// guardians' pages in [`super::Text`] (name, roles, email and phone…).
#[derive(Debug)]
pub struct StaffText {
    // Menu and what several pages say.
    pub people: &'static str,
    pub reports: &'static str,
    pub next_page: &'static str,
    pub download_csv: &'static str,
    /// A school filter or a role's scope: no one school.
    pub whole_district: &'static str,
    /// "one school": a role's scope whose school the reader cannot see.
    pub one_school: &'static str,
    pub status: &'static str,
    pub school: &'static str,
    pub role: &'static str,
    /// A column or filter naming an account's kind and roles, or who acted.
    pub who: &'static str,
    pub when: &'static str,
    pub students: &'static str,
    pub student: &'static str,
    pub grade: &'static str,
    /// After a guardian's or a student's link: the guardian the school
    /// calls first.
    pub primary_contact: &'static str,
    pub reset_status: &'static str,
    /// A report refused to someone who is not a district administrator.
    pub report_forbidden: &'static str,

    // People.
    /// The search field's label.
    pub search_label: &'static str,
    /// The kinds filter: everyone, parents/guardians, staff, students.
    pub who_options: [&'static str; 4],
    /// Any status, any role.
    pub any: &'static str,
    /// The status filter: active, invitee, deactivated.
    pub status_options: [&'static str; 3],
    pub shared_only: &'static str,
    pub bad_only: &'static str,
    /// With "Students" chosen: the account filters do not apply.
    pub students_note: &'static str,
    /// A student's row: "Student, grade {grade}", and whether it has an
    /// account.
    pub student_in_grade: &'static str,
    pub no_account: &'static str,
    pub has_account: &'static str,
    pub search: &'static str,
    /// "{n} found".
    pub found: &'static str,
    /// The results table, for screen readers.
    pub people_found: &'static str,
    /// A contact's mark in the results: "Shared with 1 other", "Shared with
    /// {n} others".
    pub shared_other_one: &'static str,
    pub shared_other_many: &'static str,
    pub people_forbidden: &'static str,

    // A user's profile.
    pub audit_of_account: &'static str,
    pub account: &'static str,
    /// The account's kind.
    pub account_type: &'static str,
    pub no_email_or_phone: &'static str,
    /// Why Reset Status leaves an opted-out number alone.
    pub opted_out_note: &'static str,
    pub no_roles: &'static str,
    /// A role the sync manages.
    pub from_sis: &'static str,
    /// "Revoke {role} ({scope})?": the question before revoking a role.
    pub revoke_confirm: &'static str,
    /// "Revoke {role}, {scope}": the revoke button for screen readers.
    pub revoke_label: &'static str,
    pub revoke: &'static str,
    pub roles_note: &'static str,
    pub choose_role: &'static str,
    /// Where a granted role applies (the district or one school).
    pub role_where: &'static str,
    pub grant_role: &'static str,
    pub history: &'static str,
    pub no_history: &'static str,
    pub message: &'static str,
    /// Email, SMS or voice.
    pub channel: &'static str,
    /// The address a message went to.
    pub to: &'static str,
    /// A delivery state: the number replied STOP.
    pub opted_out: &'static str,
    /// "Bad since {since}: {reason}. …": a delivery state.
    pub bad_since: &'static str,
    /// A delivery state: nothing wrong.
    pub fine: &'static str,
    /// The channel of a contact nothing was sent to yet.
    pub delivery: &'static str,
    /// The delivery state of a contact nothing was sent to yet.
    pub fine_never_bounced: &'static str,
    /// A message Homeroom sent itself (a code, an invitation), without a
    /// subject.
    pub message_from_homeroom: &'static str,
    pub no_such_profile: &'static str,
    pub profile: &'static str,
    pub reset_done: &'static str,
    pub roles_done: &'static str,
    pub roles_forbidden: &'static str,
    pub back_to_profile: &'static str,

    // Reset Status's confirmation: the question is split around the
    // address, which the page shows in bold, and its channel.
    pub reset_question_start: &'static str,
    pub reset_question_end: &'static str,
    pub reset_explained: &'static str,
    pub cancel: &'static str,

    // A student's profile.
    pub student_number: &'static str,
    pub guardians: &'static str,
    pub no_guardians: &'static str,
    pub classes: &'static str,
    pub no_classes: &'static str,
    pub classes_note: &'static str,

    // The reports.
    pub shared_report: &'static str,
    pub shared_report_why: &'static str,
    pub duplicates_report: &'static str,
    pub duplicates_report_why: &'static str,
    pub audit_log: &'static str,
    pub audit_log_why: &'static str,

    // Shared emails and phones.
    pub shared_intro: &'static str,
    /// "{n} shared in all".
    pub shared_total: &'static str,
    pub nothing_shared: &'static str,
    pub email_or_phone: &'static str,
    pub accounts: &'static str,

    // Duplicate guardians.
    pub duplicates_intro: &'static str,
    /// "1 group in all", "{n} groups in all".
    pub groups_one: &'static str,
    pub groups_many: &'static str,
    pub no_duplicates: &'static str,
    /// Before the emails and phones a group's records share.
    pub shared_values: &'static str,
    /// "Records of {name}": a group's table, for screen readers.
    pub records_of: &'static str,
    pub record: &'static str,
    pub sis_ids: &'static str,
    /// Why records are grouped: the same name and a shared email or phone.
    pub same_name_shared: &'static str,
    /// Why records are grouped: the same name and the same student.
    pub same_name_same_student: &'static str,
    /// "{source} id {id}": a record's id in one source (OneRoster CSV…).
    pub source_id: &'static str,
    /// The source of records a district uploaded.
    pub guardian_upload: &'static str,

    // The audit log.
    pub audit_intro: &'static str,
    /// Before the account the log is filtered to, in bold.
    pub only_events_about: &'static str,
    /// The filtered account when the reader may not see its name.
    pub one_account: &'static str,
    pub show_everyone: &'static str,
    pub what_happened: &'static str,
    /// Any kind of event.
    pub anything: &'static str,
    /// The first day, and the column of the address an event came from.
    pub from: &'static str,
    pub from_hint: &'static str,
    pub until: &'static str,
    pub until_hint: &'static str,
    pub show: &'static str,
    pub nothing_recorded: &'static str,
    /// The events table, for screen readers.
    pub audit_events: &'static str,
    pub what: &'static str,
    /// The account an event was about.
    pub about: &'static str,
    pub older_events: &'static str,
    /// An account whose name the reader may not see.
    pub an_account: &'static str,
    /// Who acted in an event without a session (a failed sign-in).
    pub not_signed_in: &'static str,
    pub audit_forbidden: &'static str,

    /// Protobuf enum values in words, by the value's whole name
    /// (`ACCOUNT_STATUS_ACTIVE`): statuses, kinds, roles, channels,
    /// delivery states, relationships, audit events. A value not listed
    /// (all of them in English) reads as its name in words ("Active").
    pub enum_names: &'static [(&'static str, &'static str)],
}

impl StaffText {
    /// A contact's mark in the people search, for `others` other accounts.
    pub fn shared_other(&self, others: u32) -> String {
        if others == 1 {
            self.shared_other_one.to_owned()
        } else {
            Text::with_n(self.shared_other_many, u64::from(others))
        }
    }

    /// How many groups of duplicate guardians there are.
    pub fn groups(&self, n: i32) -> String {
        if n == 1 {
            self.groups_one.to_owned()
        } else {
            Text::with_n(self.groups_many, n.try_into().unwrap_or_default())
        }
    }

    /// An enum value in words: `name` is the value with or without its
    /// `prefix` (`ACCOUNT_STATUS_ACTIVE`, `active`), as the API writes it.
    pub fn enum_name(&self, name: &str, prefix: &str) -> String {
        let upper = name.to_ascii_uppercase();
        let key = format!("{prefix}{}", upper.strip_prefix(prefix).unwrap_or(&upper));
        self.enum_names
            .iter()
            .find(|(value, _)| *value == key)
            .map_or_else(
                || crate::console::words(name, prefix),
                |(_, words)| (*words).to_owned(),
            )
    }
}

/// English.
pub static EN: StaffText = StaffText {
    people: "People",
    reports: "Reports",
    next_page: "Next page",
    download_csv: "Download CSV",
    whole_district: "Whole district",
    one_school: "one school",
    status: "Status",
    school: "School",
    role: "Role",
    who: "Who",
    when: "When",
    students: "Students",
    student: "Student",
    grade: "Grade",
    primary_contact: "primary contact",
    reset_status: "Reset Status",
    report_forbidden: "Only the district's administrators may read this report.",

    search_label: "Name, email or phone",
    who_options: ["Everyone", "Parents/guardians", "Staff", "Students"],
    any: "Any",
    status_options: ["Active", "Invitee (pending)", "Deactivated"],
    shared_only: "Only people who share an email or phone with another account",
    bad_only: "Only people with a bad address (bounced or undeliverable)",
    students_note: "Students are listed as the SIS has them, with or without an account: the status, role, shared and bad-address filters apply to accounts only.",
    student_in_grade: "Student, grade {grade}",
    no_account: "No account",
    has_account: "Has an account",
    search: "Search",
    found: "{n} found",
    people_found: "People found",
    shared_other_one: "Shared with 1 other",
    shared_other_many: "Shared with {n} others",
    people_forbidden: "Only the district's administrators and user managers may search for people.",

    audit_of_account: "Audit log of this account",
    account: "Account",
    account_type: "Type",
    no_email_or_phone: "No email or phone number.",
    opted_out_note: "An opted-out number stays opted out until the person texts START; Reset Status does not change that, because the person asked to stop.",
    no_roles: "No roles yet.",
    from_sis: "From the SIS",
    revoke_confirm: "Revoke {role} ({scope})?",
    revoke_label: "Revoke {role}, {scope}",
    revoke: "Revoke",
    roles_note: "Roles from the SIS change with the next sync; the ones granted here stay until revoked.",
    choose_role: "Choose a role",
    role_where: "Where",
    grant_role: "Grant role",
    history: "Communication history",
    no_history: "Nothing was sent to this account yet.",
    message: "Message",
    channel: "Channel",
    to: "To",
    opted_out: "Opted out (replied STOP)",
    bad_since: "Bad since {since}: {reason}. Nothing is sent to it.",
    fine: "Fine",
    delivery: "Delivery",
    fine_never_bounced: "Fine (nothing has bounced)",
    message_from_homeroom: "A message from Homeroom",
    no_such_profile: "There is no such profile, or you may not see it.",
    profile: "Profile",
    reset_done: "The status was reset. Nothing was sent: the next communication will try the address again.",
    roles_done: "The roles were changed. The change is in the audit log.",
    roles_forbidden: "Changing roles needs the district administrator role.",
    back_to_profile: "Back to the profile",

    reset_question_start: "Reset the status of",
    reset_question_end: "for every account that uses it?",
    reset_explained: "This sends nothing. It lifts the block, so the next communication tries this address again. If the address is still wrong in the school's system, fix it there first, or the next message will bounce again.",
    cancel: "Cancel",

    student_number: "Student number",
    guardians: "Guardians",
    no_guardians: "No guardian is linked to this student.",
    classes: "Classes",
    no_classes: "No classes to show.",
    classes_note: "These are the classes you are allowed to see. A student with no classes here may still be enrolled: it can be your permissions.",

    shared_report: "Shared emails and phones",
    shared_report_why: "Every email and phone more than one account uses, with who uses it.",
    duplicates_report: "Duplicate guardians",
    duplicates_report_why: "Guardian records that look like one person, with the SIS ids to fix.",
    audit_log: "Audit log",
    audit_log_why: "Who did what, when and from where.",

    shared_intro: "Every email and mobile phone that more than one account uses: parents who share an address, or a teacher who is also a parent. Each account keeps its own password and messages; a message reaches a shared address once.",
    shared_total: "{n} shared in all",
    nothing_shared: "No email or phone is shared.",
    email_or_phone: "Email or phone",
    accounts: "Accounts",

    duplicates_intro: "Guardian records that look like one person: the same name with a shared email or phone, or with the same student. Fix them in your student information system, using the SIS ids below; the next sync brings the fix.",
    groups_one: "1 group in all",
    groups_many: "{n} groups in all",
    no_duplicates: "No guardian records look like duplicates.",
    shared_values: "Shared:",
    records_of: "Records of {name}",
    record: "Record",
    sis_ids: "SIS ids to fix",
    same_name_shared: "Same name and a shared email or phone",
    same_name_same_student: "Same name and the same student",
    source_id: "{source} id {id}",
    guardian_upload: "Guardian upload",

    audit_intro: "Who did what in the district, and from where: sign-ins, throttled sign-ins, changes to emails, phones, roles and statuses, Reset Status, merges. Newest first. Codes, passwords and whole addresses are never recorded.",
    only_events_about: "Only events by or about",
    one_account: "one account",
    show_everyone: "Show everyone",
    what_happened: "What happened",
    anything: "Anything",
    from: "From",
    from_hint: "day, UTC",
    until: "Until",
    until_hint: "day included",
    show: "Show",
    nothing_recorded: "Nothing was recorded for these filters.",
    audit_events: "Audit events",
    what: "What",
    about: "About",
    older_events: "Older events",
    an_account: "An account",
    not_signed_in: "Someone not signed in",
    audit_forbidden: "Only the district's administrators may read the audit log.",

    enum_names: &[],
};

/// Spanish.
pub static ES: StaffText = StaffText {
    people: "Personas",
    reports: "Informes",
    next_page: "Página siguiente",
    download_csv: "Descargar CSV",
    whole_district: "Todo el distrito",
    one_school: "una escuela",
    status: "Estado",
    school: "Escuela",
    role: "Función",
    who: "Quién",
    when: "Cuándo",
    students: "Estudiantes",
    student: "Estudiante",
    grade: "Grado",
    primary_contact: "contacto principal",
    reset_status: "Restablecer estado",
    report_forbidden: "Solo los administradores del distrito pueden leer este informe.",

    search_label: "Nombre, correo o teléfono",
    who_options: ["Todos", "Padres/tutores", "Personal", "Estudiantes"],
    any: "Cualquiera",
    status_options: ["Activa", "Invitada (pendiente)", "Desactivada"],
    shared_only: "Solo las personas que comparten un correo o teléfono con otra cuenta",
    bad_only: "Solo las personas con una dirección fallida (rebotada o imposible de entregar)",
    students_note: "Los estudiantes aparecen como los tiene el SIS, con o sin cuenta: los filtros de estado, función, compartidos y dirección fallida solo se aplican a las cuentas.",
    student_in_grade: "Estudiante, grado {grade}",
    no_account: "Sin cuenta",
    has_account: "Tiene cuenta",
    search: "Buscar",
    found: "Personas encontradas: {n}",
    people_found: "Personas encontradas",
    shared_other_one: "Compartido con otra cuenta",
    shared_other_many: "Compartido con otras {n} cuentas",
    people_forbidden: "Solo los administradores y los gestores de usuarios del distrito pueden buscar personas.",

    audit_of_account: "Registro de auditoría de esta cuenta",
    account: "Cuenta",
    account_type: "Tipo",
    no_email_or_phone: "No tiene correo ni teléfono.",
    opted_out_note: "Un número dado de baja sigue así hasta que la persona envíe START por mensaje de texto; Restablecer estado no lo cambia, porque la persona pidió no recibir más mensajes.",
    no_roles: "Todavía no tiene funciones.",
    from_sis: "Del SIS",
    revoke_confirm: "¿Retirar la función {role} ({scope})?",
    revoke_label: "Retirar la función {role}, {scope}",
    revoke: "Retirar",
    roles_note: "Las funciones que vienen del SIS cambian con la próxima sincronización; las asignadas aquí se mantienen hasta que se retiren.",
    choose_role: "Elija una función",
    role_where: "Dónde",
    grant_role: "Asignar función",
    history: "Historial de comunicaciones",
    no_history: "Todavía no se ha enviado nada a esta cuenta.",
    message: "Mensaje",
    channel: "Medio",
    to: "Para",
    opted_out: "Dado de baja (respondió STOP)",
    bad_since: "Con fallas desde {since}: {reason}. No se le envía nada.",
    fine: "Sin problemas",
    delivery: "Entrega",
    fine_never_bounced: "Sin problemas (nada ha rebotado)",
    message_from_homeroom: "Un mensaje de Homeroom",
    no_such_profile: "Ese perfil no existe, o usted no tiene permiso para verlo.",
    profile: "Perfil",
    reset_done: "Se restableció el estado. No se envió nada: la próxima comunicación volverá a intentar con esta dirección.",
    roles_done: "Se cambiaron las funciones. El cambio queda en el registro de auditoría.",
    roles_forbidden: "Para cambiar funciones se necesita la función de administrador del distrito.",
    back_to_profile: "Volver al perfil",

    reset_question_start: "¿Restablecer el estado de",
    reset_question_end: "en todas las cuentas que lo usan?",
    reset_explained: "Esto no envía nada. Quita el bloqueo, así que la próxima comunicación vuelve a intentar con esta dirección. Si la dirección sigue mal en el sistema de la escuela, corríjala allí primero, o el próximo mensaje volverá a rebotar.",
    cancel: "Cancelar",

    student_number: "Número de estudiante",
    guardians: "Padres/tutores",
    no_guardians: "Ningún padre o tutor está vinculado a este estudiante.",
    classes: "Clases",
    no_classes: "No hay clases que mostrar.",
    classes_note: "Estas son las clases que usted puede ver. Un estudiante sin clases aquí puede estar inscrito de todos modos: puede deberse a sus permisos.",

    shared_report: "Correos y teléfonos compartidos",
    shared_report_why: "Cada correo y teléfono que usa más de una cuenta, con quién lo usa.",
    duplicates_report: "Padres/tutores duplicados",
    duplicates_report_why: "Registros de padres/tutores que parecen ser la misma persona, con los id del SIS que hay que corregir.",
    audit_log: "Registro de auditoría",
    audit_log_why: "Quién hizo qué, cuándo y desde dónde.",

    shared_intro: "Cada correo y teléfono móvil que usa más de una cuenta: padres que comparten una dirección, o un maestro que también es padre de familia. Cada cuenta tiene su propia contraseña y sus mensajes; un mensaje llega una sola vez a una dirección compartida.",
    shared_total: "Compartidos en total: {n}",
    nothing_shared: "No hay ningún correo ni teléfono compartido.",
    email_or_phone: "Correo o teléfono",
    accounts: "Cuentas",

    duplicates_intro: "Registros de padres/tutores que parecen ser la misma persona: el mismo nombre con un correo o teléfono compartido, o con el mismo estudiante. Corríjalos en su sistema de información estudiantil con los id del SIS de abajo; la próxima sincronización trae la corrección.",
    groups_one: "1 grupo en total",
    groups_many: "{n} grupos en total",
    no_duplicates: "Ningún registro de padre/tutor parece duplicado.",
    shared_values: "En común:",
    records_of: "Registros de {name}",
    record: "Registro",
    sis_ids: "Id del SIS que corregir",
    same_name_shared: "Mismo nombre y un correo o teléfono compartido",
    same_name_same_student: "Mismo nombre y el mismo estudiante",
    source_id: "{source}: id {id}",
    guardian_upload: "Carga de padres/tutores",

    audit_intro: "Quién hizo qué en el distrito, y desde dónde: inicios de sesión, inicios de sesión limitados, cambios de correos, teléfonos, funciones y estados, Restablecer estado, fusiones. Primero lo más reciente. Nunca se registran códigos, contraseñas ni direcciones completas.",
    only_events_about: "Solo los eventos hechos por o sobre",
    one_account: "una cuenta",
    show_everyone: "Mostrar a todos",
    what_happened: "Qué pasó",
    anything: "Cualquier cosa",
    from: "Desde",
    from_hint: "día, UTC",
    until: "Hasta",
    until_hint: "día incluido",
    show: "Mostrar",
    nothing_recorded: "No se registró nada con estos filtros.",
    audit_events: "Eventos de auditoría",
    what: "Qué",
    about: "Sobre quién",
    older_events: "Eventos anteriores",
    an_account: "Una cuenta",
    not_signed_in: "Alguien sin sesión iniciada",
    audit_forbidden: "Solo los administradores del distrito pueden leer el registro de auditoría.",

    enum_names: &[
        ("ACCOUNT_STATUS_INVITEE", "Invitada"),
        ("ACCOUNT_STATUS_ACTIVE", "Activa"),
        ("ACCOUNT_STATUS_DEACTIVATED", "Desactivada"),
        ("ACCOUNT_KIND_GUARDIAN", "Padre/tutor"),
        ("ACCOUNT_KIND_STAFF", "Personal"),
        ("ACCOUNT_KIND_STUDENT", "Estudiante"),
        // The words of `role_names`.
        ("ROLE_DISTRICT_ADMIN", "Administrador del distrito"),
        ("ROLE_ROSTERING_ADMIN", "Administrador de listas"),
        (
            "ROLE_COMMUNICATIONS_ADMIN",
            "Administrador de comunicaciones",
        ),
        ("ROLE_USER_MANAGER", "Gestor de usuarios"),
        ("ROLE_TEACHER", "Maestro"),
        ("ROLE_STAFF", "Personal"),
        ("ROLE_GUARDIAN", "Padre/tutor"),
        ("CREDENTIAL_KIND_EMAIL", "Correo"),
        ("CREDENTIAL_KIND_MOBILE_PHONE", "Teléfono móvil"),
        ("CREDENTIAL_KIND_HOME_PHONE", "Teléfono de casa"),
        ("CHANNEL_EMAIL", "Correo"),
        ("CHANNEL_VOICE", "Voz"),
        ("DELIVERY_STATUS_QUEUED", "En cola"),
        ("DELIVERY_STATUS_SENDING", "Enviando"),
        ("DELIVERY_STATUS_SENT", "Enviado"),
        ("DELIVERY_STATUS_DELIVERED", "Entregado"),
        ("DELIVERY_STATUS_FAILED", "Fallido"),
        ("DELIVERY_STATUS_BOUNCED", "Rebotado"),
        ("DELIVERY_STATUS_SKIPPED", "Omitido"),
        ("SKIP_REASON_BAD_ADDRESS", "Dirección con fallas"),
        ("SKIP_REASON_OPTED_OUT", "Dado de baja"),
        (
            "SKIP_REASON_NO_PREFERENCE",
            "Desactivado en las preferencias",
        ),
        ("SKIP_REASON_NO_ADDRESS", "Sin dirección"),
        ("BAD_ADDRESS_CAUSE_HARD_BOUNCE", "Rebote definitivo"),
        (
            "BAD_ADDRESS_CAUSE_REPEATED_SOFT_BOUNCES",
            "Rebotes temporales repetidos",
        ),
        ("BAD_ADDRESS_CAUSE_COMPLAINT", "Queja"),
        ("BAD_ADDRESS_CAUSE_INVALID_NUMBER", "Número no válido"),
        ("BAD_ADDRESS_CAUSE_NOT_SMS_CAPABLE", "No puede recibir SMS"),
        ("BAD_ADDRESS_CAUSE_UNREACHABLE", "No se puede contactar"),
        ("SYSTEM_MESSAGE_KIND_ONE_TIME_CODE", "Código de un solo uso"),
        ("SYSTEM_MESSAGE_KIND_INVITATION", "Invitación"),
        (
            "SYSTEM_MESSAGE_KIND_CONTACT_CHANGED_NOTICE",
            "Aviso de cambio de contacto",
        ),
        ("GUARDIAN_RELATIONSHIP_PARENT", "Padre o madre"),
        ("GUARDIAN_RELATIONSHIP_GUARDIAN", "Tutor legal"),
        ("GUARDIAN_RELATIONSHIP_RELATIVE", "Familiar"),
        ("GUARDIAN_RELATIONSHIP_GRANDPARENT", "Abuelo o abuela"),
        ("GUARDIAN_RELATIONSHIP_AUNT_UNCLE", "Tío o tía"),
        ("GUARDIAN_RELATIONSHIP_SIBLING", "Hermano o hermana"),
        ("GUARDIAN_RELATIONSHIP_SELF", "El propio estudiante"),
        ("GUARDIAN_RELATIONSHIP_OTHER", "Otro"),
        ("RECORD_STATUS_ACTIVE", "Activo"),
        ("RECORD_STATUS_DEACTIVATED", "Desactivado"),
        ("RECORD_STATUS_ARCHIVED", "Archivado"),
        (
            "AUDIT_EVENT_KIND_LOGIN_SUCCEEDED",
            "Inicio de sesión correcto",
        ),
        ("AUDIT_EVENT_KIND_LOGIN_FAILED", "Inicio de sesión fallido"),
        (
            "AUDIT_EVENT_KIND_LOGIN_THROTTLED",
            "Inicio de sesión limitado",
        ),
        ("AUDIT_EVENT_KIND_ACCOUNT_SELECTED", "Cuenta elegida"),
        (
            "AUDIT_EVENT_KIND_ONE_TIME_CODE_SENT",
            "Código de un solo uso enviado",
        ),
        ("AUDIT_EVENT_KIND_INVITATION_SENT", "Invitación enviada"),
        (
            "AUDIT_EVENT_KIND_INVITATION_ACCEPTED",
            "Invitación aceptada",
        ),
        ("AUDIT_EVENT_KIND_SSO_LINKED", "Cuenta escolar vinculada"),
        (
            "AUDIT_EVENT_KIND_REFRESH_TOKEN_REUSED",
            "Token de renovación reutilizado",
        ),
        ("AUDIT_EVENT_KIND_LOGGED_OUT", "Sesión cerrada"),
        ("AUDIT_EVENT_KIND_PASSWORD_CHANGED", "Contraseña cambiada"),
        (
            "AUDIT_EVENT_KIND_CREDENTIAL_CHANGED",
            "Correo o teléfono cambiado",
        ),
        (
            "AUDIT_EVENT_KIND_CREDENTIAL_CONFIRMED",
            "Correo o teléfono confirmado",
        ),
        ("AUDIT_EVENT_KIND_NAME_CHANGED", "Nombre cambiado"),
        ("AUDIT_EVENT_KIND_ROLE_CHANGED", "Función cambiada"),
        ("AUDIT_EVENT_KIND_STATUS_CHANGED", "Estado cambiado"),
        (
            "AUDIT_EVENT_KIND_ADDRESS_STATUS_RESET",
            "Estado de dirección restablecido",
        ),
        ("AUDIT_EVENT_KIND_ACCOUNTS_MERGED", "Cuentas fusionadas"),
        (
            "AUDIT_EVENT_KIND_SERVICE_TOKEN_ISSUED",
            "Token de servicio emitido",
        ),
    ],
};

#[cfg(test)]
mod tests {
    use homeroom_proto::identity::v1 as idpb;

    #[test]
    fn enum_values_read_as_words_in_each_language() {
        assert_eq!(
            super::EN.enum_name("ACCOUNT_STATUS_ACTIVE", "ACCOUNT_STATUS_"),
            "Active"
        );
        assert_eq!(
            super::EN.enum_name("communications_admin", "ROLE_"),
            "Communications admin"
        );
        assert_eq!(super::ES.enum_name("active", "ACCOUNT_STATUS_"), "Activa");
        assert_eq!(super::ES.enum_name("SOMETHING_NEW", "X_"), "Something new");
        // Spanish names a role as the account page does.
        for role in [
            idpb::Role::DistrictAdmin,
            idpb::Role::RosteringAdmin,
            idpb::Role::CommunicationsAdmin,
            idpb::Role::UserManager,
            idpb::Role::Teacher,
            idpb::Role::Staff,
            idpb::Role::Guardian,
        ] {
            assert_eq!(
                super::ES.enum_name(role.as_str_name(), "ROLE_"),
                super::super::ES.role(role)
            );
        }
    }
}
