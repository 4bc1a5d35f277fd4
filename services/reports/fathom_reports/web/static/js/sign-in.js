// Sign-in: choosing another trust reloads its people at once (the "Choose trust" button stays for no-script use).
const choice = document.getElementById("trust-choice");
if (choice) choice.addEventListener("change", () => choice.form.submit());
