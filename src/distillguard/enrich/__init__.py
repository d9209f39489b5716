"""distillguard.enrich"""
