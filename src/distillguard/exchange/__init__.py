"""distillguard.exchange"""
