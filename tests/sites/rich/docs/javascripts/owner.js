document.body.dataset.ownerScript = "ran";
