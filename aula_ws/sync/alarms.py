"""Alarm mails to the administrator, sent through SMTP (stdlib smtplib).

Built from the SMTP settings: host, port, sender, the admin's address,
optional STARTTLS and login. Without a host or an admin address the alarm is
only logged. The password is never logged.
"""

import logging
import smtplib
import ssl
from email.message import EmailMessage

from aula_ws.config_sync import SmtpSettings

log = logging.getLogger(__name__)


class SmtpSender:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    @property
    def configured(self) -> bool:
        return bool(self.settings.host and self.settings.admin_email)

    def send_to_admin(self, subject: str, body: str) -> bool:
        """True when the mail was accepted by the SMTP server."""
        s = self.settings
        if not self.configured:
            log.warning("alarm (no SMTP host or admin address set, not mailed): %s %s", subject, body)
            return False
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.sender, s.admin_email, subject
        message.set_content(body)
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password)
            smtp.send_message(message)
        log.warning("alarm mailed to %s: %s", s.admin_email, subject)
        return True
